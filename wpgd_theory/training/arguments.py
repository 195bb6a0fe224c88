"""Checks of the training entry points' arguments, and the size limits they enforce.

Each check returns the argument in canonical form or raises a TypeError/ValueError naming it
(through :mod:`wpgd_theory.core.validation`); :func:`_check_footprint` refuses, before anything is
allocated, a call whose estimated working set exceeds :data:`MAX_TRAINING_FLOATS`.
"""
from __future__ import annotations

import numpy as np

from ..core.validation import as_integer, as_real, as_real_array, as_sequence
from ._jax import jax, jnp
from .models import Architecture

__all__ = ["MAX_STEPS", "MAX_TEST_PROMPTS", "MAX_TRAINING_FLOATS"]

MAX_STEPS = 10**6
"""Largest ``steps`` of one run (refused beyond, rather than running for days)."""
MAX_TEST_PROMPTS = 10**8
"""Largest ``test_prompts`` (streamed in chunks of at most 8192; refused beyond)."""
MAX_TRAINING_FLOATS = 2**29
"""Largest estimated working set of one training call, in float32 numbers (2 GiB): parameters
and Adam state, one step's prompts and tokens forward and backward per seed, an evaluation chunk
per seed and the float64 analysis. A call beyond it is refused before anything is allocated."""


def _positive_int(value, name):
    return as_integer(value, name, minimum=1)


def _seed(value, name):
    # jax.random.PRNGKey takes a 32-bit seed
    return as_integer(value, name, minimum=0, maximum=2**32 - 1)


def _learning_rate(value):
    return as_real(value, "learning_rate", minimum=0.0, strict_minimum=True)


def _test_prompts(value):
    value = as_integer(value, "test_prompts", minimum=2, maximum=MAX_TEST_PROMPTS)
    return value


def _seeds(seeds):
    return as_sequence(seeds, "seeds", _seed, of="int")


def _architecture(arch):
    if not isinstance(arch, Architecture):
        raise TypeError(f"arch must be an Architecture (Architecture.build(model, ...)), got "
                        f"{type(arch).__name__}")
    return arch


def _check_params(arch, params):
    """``params`` as float32 arrays with exactly the names and shapes of ``arch.init``."""
    expected = jax.eval_shape(arch.init, jax.random.PRNGKey(0))
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict like TrainResult.params, got "
                        f"{type(params).__name__}")
    names = jax.tree_util.tree_structure(expected)
    try:
        leaves = names.flatten_up_to(params)
    except (ValueError, TypeError, KeyError):
        raise ValueError(f"params must have the entries of this architecture's parameters "
                         f"{sorted(expected)} (nested as in arch.init), got {sorted(params)}"
                         ) from None
    paths = [jax.tree_util.keystr(path) for path, _ in
             jax.tree_util.tree_flatten_with_path(expected)[0]]
    checked = []
    for path, leaf, shape in zip(paths, leaves, jax.tree_util.tree_leaves(expected)):
        array = as_real_array(np.asarray(leaf), f"params{path}")
        if array.shape != shape.shape:
            raise ValueError(f"params{path} must have shape {shape.shape}, got {array.shape}")
        checked.append(jnp.asarray(array, jnp.float32))
    return jax.tree_util.tree_unflatten(names, checked)


def _per_prompt_floats(arch):
    """float32 numbers of one prompt's tokens and projections: ``T × (D + 2d_k + 1)``."""
    return arch.T * (arch.D + 2 * arch.d_k + 1)


def _chunk_size(arch, limit=8192, floats=2**25):
    """Test prompts per evaluation chunk: 8192, halved while one seed's projected tokens
    (``T × (D + 2d_k + 1)`` floats a prompt) would exceed ``2²⁵`` floats (128 MB). Depends on the
    architecture only, so every run of it sees the same test prompts."""
    per_prompt = _per_prompt_floats(arch)
    chunk = limit
    while chunk > 64 and chunk * per_prompt > floats:
        chunk //= 2
    return chunk


def _check_footprint(arch, seeds, batch_size):
    """Refuse, before allocating, a call whose estimated working set exceeds the limit."""
    parameters = sum(int(np.prod(leaf.shape)) for leaf in jax.tree_util.tree_leaves(
        jax.eval_shape(arch.init, jax.random.PRNGKey(0))))
    per_prompt = _per_prompt_floats(arch)
    # training: parameters, gradients and Adam's two moments, and a step's prompts forward
    # and backward (×4); evaluation: a chunk of test prompts (×3); analysis: n d×d in float64
    floats = (seeds * (4 * parameters + 4 * batch_size * per_prompt
                       + 3 * _chunk_size(arch) * per_prompt) + 2 * arch.n * arch.d**2)
    if floats > MAX_TRAINING_FLOATS:
        raise ValueError(
            f"training {arch} with {seeds} seed(s) and batch_size {batch_size} needs an "
            f"estimated {floats:.3g} float32 numbers ({parameters} parameters, {per_prompt} per "
            f"prompt) > MAX_TRAINING_FLOATS = {MAX_TRAINING_FLOATS} (2 GiB); lower batch_size, "
            "the number of seeds or the model's size")
