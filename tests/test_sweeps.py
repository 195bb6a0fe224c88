"""Executor-based sweeps (core.parallel, sweeps): identical results in-process, on a
ProcessPoolExecutor and on a Dask LocalCluster, whatever the chunk size; the phase diagram's
statistics against direct computation."""
import multiprocessing
import os
import pathlib
from concurrent.futures import ProcessPoolExecutor
from functools import partial

import numpy as np
import pytest

import wpgd_theory
from wpgd_theory.core.batched import solve_spectra_batched
from wpgd_theory.core.parallel import map_chunks, seed_blocks
from wpgd_theory.core.spectral import find_fixed_points
from wpgd_theory.sweeps import (
    clopper_pearson,
    open_executor,
    run_phase_diagram,
    sweep_main,
    wilson_interval,
)
from wpgd_theory.sweeps.phase import cell_seed, draw_spectra
from wpgd_theory.verify.search import (
    SpectralInstance,
    adversarial_search,
    random_search,
)

PHASE = dict(n_values=[12, 40], d_values=[3], instances=60, block_size=20, seed=5)


def _uniform_block(scale, block):
    return scale * np.random.default_rng(block.seed).uniform(size=block.stop - block.start)


def _rows(diagram):
    return [{k: v for k, v in row.items()} for row in diagram.rows]


@pytest.fixture(scope="module")
def reference():
    return (run_phase_diagram(**PHASE), random_search(15, 4, trials=30, seed=3, block_size=10))


def test_map_chunks_is_independent_of_chunking():
    fn = partial(_uniform_block, 2.0)
    base = np.concatenate(map_chunks(fn, 103, seed=7, block_size=10))
    for chunk_size in (1, 10, 25, 1000):
        again = np.concatenate(map_chunks(fn, 103, seed=7, block_size=10, chunk_size=chunk_size))
        np.testing.assert_array_equal(again, base)
    assert base.size == 103
    other = np.concatenate(map_chunks(fn, 103, seed=8, block_size=10))
    assert not np.array_equal(other, base)


def test_seed_blocks_are_the_spawned_children():
    children = np.random.SeedSequence(11).spawn(3)
    for block, child in zip(seed_blocks(25, seed=11, block_size=10), children):
        assert (np.random.default_rng(block.seed).integers(1 << 62)
                == np.random.default_rng(child).integers(1 << 62))


def test_bad_arguments():
    with pytest.raises(TypeError, match="executor must be None"):
        map_chunks(partial(_uniform_block, 1.0), 5, executor=object())
    with pytest.raises(ValueError, match="block_size must be >= 1"):
        map_chunks(partial(_uniform_block, 1.0), 5, block_size=0)
    with pytest.raises(ValueError, match="multiple of block_size"):
        run_phase_diagram([12], [3], instances=30, block_size=20)
    with pytest.raises(ValueError, match="unknown executor spec"):
        open_executor("threads")          # checked on the call, before any executor starts
    with pytest.raises(ValueError, match="worker count N must be an int >= 1"):
        open_executor("processes:x")
    with pytest.raises(TypeError, match="spec must be a str"):
        open_executor(None)
    # Reproducibility needs a fixed seed: None is refused, a SeedSequence is taken as the root.
    with pytest.raises(TypeError, match="seed must be an int >= 0 or a numpy.random.SeedSequence"):
        map_chunks(partial(_uniform_block, 1.0), 5, seed=None)
    root = np.random.SeedSequence(7)
    assert (np.concatenate(map_chunks(partial(_uniform_block, 1.0), 25, seed=root,
                                      block_size=10))
            == np.concatenate(map_chunks(partial(_uniform_block, 1.0), 25, seed=7,
                                         block_size=10))).all()
    with pytest.raises(TypeError, match=r"shapes must be a sequence of str"):
        run_phase_diagram([12], [3], "log_uniform", instances=20, block_size=20)
    with pytest.raises(ValueError, match=r"shapes\[0\] must be one of"):
        run_phase_diagram([12], [3], ("cubic",), instances=20, block_size=20)
    with pytest.raises(ValueError, match=r"n_values\[1\] must be >= 3, got 2"):
        run_phase_diagram([12, 2], [3], instances=20, block_size=20)
    with pytest.raises(ValueError, match="d_values is empty"):
        run_phase_diagram([12], [], instances=20, block_size=20)


@pytest.mark.parametrize("interval", [clopper_pearson, wilson_interval])
def test_interval_arguments_are_checked(interval):
    with pytest.raises(ValueError, match="successes must be <= 10, got 11"):
        interval(11, 10)
    with pytest.raises(ValueError, match="successes must be >= 0"):
        interval(-1, 10)
    with pytest.raises(ValueError, match="trials must be >= 1, got 0"):
        interval(0, 0)
    with pytest.raises(TypeError, match="trials must be an int"):
        interval(1, 10.0)
    with pytest.raises(ValueError, match="confidence must be < 1"):
        interval(1, 10, confidence=1.0)


def test_process_pool_gives_identical_results(reference):
    diagram, search = reference
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("forkserver")) as pool:
        again = run_phase_diagram(**PHASE, executor=pool, chunk_size=20)
        search_again = random_search(15, 4, trials=30, seed=3, block_size=10, executor=pool)
        a = adversarial_search(20, 4, maxiter=2, popsize=4, seed=1)
        b = adversarial_search(20, 4, maxiter=2, popsize=4, seed=1, executor=pool)
    assert _rows(again) == _rows(diagram)
    for cell, slopes in diagram.slopes.items():
        np.testing.assert_array_equal(again.slopes[cell], slopes)
    assert search_again[:2] == search[:2]
    assert a.max_slope == b.max_slope and np.array_equal(a.optimize.x, b.optimize.x)


def test_dask_local_cluster_gives_identical_results(reference, monkeypatch):
    pytest.importorskip("dask.distributed")
    # Worker processes import wpgd_theory from this checkout, as the test process does.
    root = str(pathlib.Path(wpgd_theory.__file__).resolve().parents[1])
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [root] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    diagram, search = reference
    with open_executor("dask-local:2") as client:
        assert len(client.scheduler_info()["workers"]) == 2
        again = run_phase_diagram(**PHASE, executor=client, chunk_size=40)
        search_again = random_search(15, 4, trials=30, seed=3, block_size=10, executor=client)
    assert _rows(again) == _rows(diagram)
    assert search_again[:2] == search[:2]


def test_phase_diagram_statistics_against_direct_solves(reference):
    diagram, _ = reference
    # Cell 1 is (two_cluster, n=40, d=3); its seed block j (20 instances each) is the j-th
    # child of the cell's own seed, whatever the grid.
    cell = cell_seed(5, "two_cluster", 40, 3)
    several, largest = 0, 0.0
    for j in range(3):
        rng = np.random.default_rng(np.random.SeedSequence(cell.entropy,
                                                           spawn_key=cell.spawn_key + (j,)))
        s, sigma2, lam, a = draw_spectra("two_cluster", 40, 3, rng, 20)
        for i in range(20):
            search = find_fixed_points(SpectralInstance(s[i], sigma2[i], lam[i], a[i]))
            several += search.fixed_points.size > 1
            largest = max(largest, float(np.max(search.slopes)))
    row = diagram.rows[1]
    assert (row["shape"], row["n"], row["d"]) == ("two_cluster", 40, 3)
    assert row["several"] == several
    assert row["max_slope"] == pytest.approx(largest, rel=1e-6)
    assert row["share_low"] <= row["share"] <= row["share_high"]


def test_a_cell_is_the_same_alone_and_inside_a_larger_grid(reference):
    """Issue #20: a cell's instances used to depend on its position in the grid."""
    diagram, _ = reference                       # cells: two_cluster × {12, 40}, log_uniform × …
    alone = run_phase_diagram([40], [3], ("log_uniform",), instances=60, block_size=20, seed=5)
    assert alone.rows == [diagram.rows[3]]
    np.testing.assert_array_equal(alone.slopes[("log_uniform", 40, 3)],
                                  diagram.slopes[("log_uniform", 40, 3)])
    wider = run_phase_diagram([7, 40], [3, 4], ("log_uniform",), instances=60, block_size=20,
                              seed=5)
    assert [row for row in wider.rows if (row["n"], row["d"]) == (40, 3)] == alone.rows
    other_seed = run_phase_diagram([40], [3], ("log_uniform",), instances=60, block_size=20,
                                   seed=6)
    assert other_seed.rows[0]["max_slope"] != alone.rows[0]["max_slope"]


def test_several_fixed_point_instances_round_trip_through_certify(tmp_path):
    """The exported instances are the ones the batched solver counted, and ``certify`` reads
    them back and proves (interval arithmetic, an independent route) several fixed points."""
    import contextlib
    import io
    import json

    from wpgd_theory.cli import main
    diagram = run_phase_diagram([200], [50], ("two_cluster_tight",), instances=100,
                                block_size=100, seed=0)
    found = diagram.several_instances[("two_cluster_tight", 200, 50)]
    assert len(found) == diagram.rows[0]["several"] >= 1
    paths = diagram.export_several(tmp_path)
    index, instance = found[0]
    assert paths[0].name == f"two_cluster_tight_n200_d50_i{index}.json"
    with contextlib.redirect_stdout(io.StringIO()) as out:
        status = main(["certify", str(paths[0]), "--digits", "20", "--json"])
    certificate = json.loads(out.getvalue())
    assert status == 0 and certificate["kind"] == "spectral"
    assert certificate["unique"] is False and certificate["count"] >= 2
    # The file holds exactly the drawn spectra (floats written with repr read back bit-exact).
    data = json.loads(paths[0].read_text())
    np.testing.assert_array_equal(data["R_eigenvalues"], instance.R_eigenvalues)
    assert data["sigma2"] == instance.sigma2


def test_three_fixed_points_are_counted():
    from wpgd_theory.verify.search import two_cluster_instance
    x = two_cluster_instance(200, 50, s_large=0.14, s_small=0.0025, k_large=1, sigma2=0.005,
                             lam_small=0.5, lam_large=190.0, mass_large=0.2)
    out = solve_spectra_batched(np.stack([x.sigma_eigenvalues] * 2), [x.sigma2] * 2,
                                x.R_eigenvalues, x.r_coefficients)
    assert out.count.tolist() == [3, 3]


def test_intervals():
    """Clopper–Pearson against its closed form at 0 and N successes, (α/2)^(1/N); Wilson
    against the textbook 95 % interval for 30/100, (0.2189, 0.3958)."""
    low, high = clopper_pearson(0, 200)
    assert low == 0 and high == pytest.approx(1 - 0.025 ** (1 / 200), rel=1e-10)
    low, high = clopper_pearson(200, 200)
    assert high == 1 and low == pytest.approx(0.025 ** (1 / 200), rel=1e-10)
    low, high = wilson_interval(30, 100)
    assert (round(low, 4), round(high, 4)) == (0.2189, 0.3958)


def test_sweep_main_writes_csv_and_png(tmp_path):
    pytest.importorskip("matplotlib")
    out = sweep_main({"n": [12], "d": [3, 4], "instances": 20, "block_size": 20,
                      "csv": str(tmp_path / "phase.csv"), "png": str(tmp_path / "phase.png")})
    lines = (tmp_path / "phase.csv").read_text().splitlines()
    assert lines[0].startswith("shape,n,d,instances,several,share,share_low,share_high")
    assert len(lines) == 1 + 4 and out["instances"] == 80
    assert (tmp_path / "phase.png").stat().st_size > 1000


def test_monte_carlo_risk_and_theory_curves_take_an_executor():
    from wpgd_theory.core.model import CorrelatedTaskModel
    from wpgd_theory.core.risk import monte_carlo_risk
    from wpgd_theory.multitask.curves import theory_curves
    model = CorrelatedTaskModel(np.eye(2), [[1, .5], [.5, 1]], [.9, .3], 0.5)
    P, w = np.eye(2) / 4, [1.0, 1.0]
    estimate = monte_carlo_risk(model, P, w, num_prompts=3000, seed=2, batch_size=1000)
    curves = theory_curves([2, 8, 32], 0.3, 0.9, d=4, sigma2=0.1)
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("forkserver")) as pool:
        again = monte_carlo_risk(model, P, w, num_prompts=3000, seed=2, batch_size=1000,
                                 executor=pool)
        curves_again = theory_curves([2, 8, 32], 0.3, 0.9, d=4, sigma2=0.1, executor=pool)
    assert again == estimate
    for name in ("linatt", "gla", "gla_wo", "gla_vector"):
        np.testing.assert_array_equal(getattr(curves_again, name), getattr(curves, name))
