"""The Bayes-optimal predictor in JAX, for the paired comparison of trained models with Bayes.

:func:`bayes_predictor` returns a jit-able function of a batch of
:class:`~wpgd_theory.Prompts` that computes the posterior mean ``E[xᵀβ | X, y]`` by the
prior-square-root route of :mod:`wpgd_theory.core.bayes`
(:func:`~wpgd_theory.core.bayes.factor_svd`, the same code on ``jax.numpy`` arrays): an SVD of
the ``n × rank(J) d`` design per prompt, sound for ``σ² = 0`` and singular task correlations
alike (with enough noise, ``σ² ≥`` :data:`SOLVE_RATIO` ``· tr Σ``, a plain ``n × n`` solve). A
multitask model's joint factor has rank ``≤ K + 1`` whatever ``n``; a dense model's up to
``n + 1``.

Examples
--------
>>> import numpy as np
>>> from wpgd_theory import MultitaskModel, bayes_predict
>>> model = MultitaskModel(np.eye(2), [0.2, 0.9], [3, 3], np.eye(2), 0.0)
>>> prompts = model.sample(5, seed=0)
>>> jax_prediction = bayes_predictor(model)(prompts)            # float32
>>> np.allclose(jax_prediction, bayes_predict(model, *prompts[:3]), rtol=0, atol=1e-4)
True
"""
from __future__ import annotations

import numpy as np

from ..core.bayes import correlation_factor, factor_posterior_mean, factor_svd
from ..core.model import CorrelatedTaskModel
from ..multitask.model import MultitaskModel
from ._jax import jnp

__all__ = ["bayes_predictor", "prompt_joint_factor"]


def prompt_joint_factor(model):
    """Square root ``T`` (rows: the ``n`` context examples, then the query) of the joint task
    correlation of a prompt, with ``rank(J)`` columns.

    Examples
    --------
    >>> prompt_joint_factor(MultitaskModel(np.eye(2), [0.6, 0.8], [2, 3], np.eye(2), 0.)).shape
    (6, 2)
    """
    if isinstance(model, MultitaskModel):
        T = correlation_factor(model.joint_correlation)
        labels = np.concatenate([np.repeat(np.arange(model.K), model.sizes), [model.K]])
        return T[labels]
    if isinstance(model, CorrelatedTaskModel):
        return correlation_factor(model.joint_correlation)
    raise TypeError(f"model must be a CorrelatedTaskModel or MultitaskModel, got "
                    f"{type(model).__name__}")


#: Below ``σ² = SOLVE_RATIO · tr Σ`` the float32 solve with ``G`` (condition number up to about
#: ``n tr Σ / σ²``) is replaced by the SVD route.
SOLVE_RATIO = 1e-2


def bayes_predictor(model):
    """``predict(prompts) -> (b,)``: the Bayes-optimal predictions (float32, as training) for a
    batch of prompts of ``model`` (a CorrelatedTaskModel or MultitaskModel).

    With noise ``σ² ≥`` :data:`SOLVE_RATIO` ``· tr Σ`` the ``n × n`` system
    ``G = R ⊙ XXᵀ + σ²I`` is solved directly (cheap, and well conditioned in float32);
    otherwise the prior-square-root SVD route handles the (near-)singular ``G``.
    """
    dtype = jnp.float32
    T = prompt_joint_factor(model)
    m = T.shape[0] - 1
    correlation = jnp.asarray(T[:m] @ T[:m].T, dtype)          # R (rows of the prompt)
    query = jnp.asarray(T[:m] @ T[m], dtype)                   # r
    sigma2 = float(model.sigma2)
    direct = sigma2 >= SOLVE_RATIO * float(np.trace(model.Sigma))
    factor = jnp.asarray(T, dtype)

    def predict(prompts):
        X = jnp.asarray(prompts.context_inputs, dtype)
        y = jnp.asarray(prompts.context_labels, dtype)
        if direct:
            G = correlation * (X @ jnp.swapaxes(X, -1, -2)) + sigma2 * jnp.eye(m, dtype=dtype)
            weights = query * jnp.linalg.solve(G, y[..., None])[..., 0]    # diag(r) G⁻¹ y
            beta = jnp.einsum("...n,...nd->...d", weights, X)
        else:
            beta = factor_posterior_mean(y, *factor_svd(X, factor, sigma2))
        return jnp.einsum("...d,...d->...", beta, jnp.asarray(prompts.query_input, dtype))

    return predict
