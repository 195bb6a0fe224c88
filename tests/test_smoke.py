import numpy as np

from wpgd_theory import gla_recurrence


def test_linear_attention_is_causal_sum():
    rng = np.random.default_rng(0)
    q, k, v = rng.normal(size=(3, 5, 4))
    out = gla_recurrence(q, k, v, 1.0)
    expected = np.array([[sum(v[s] * (k[s] @ q[t]) for s in range(t + 1))][0] for t in range(5)])
    np.testing.assert_allclose(out, expected, rtol=1e-12)
