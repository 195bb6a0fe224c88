"""A JAX sampler of exactly the package's prompt distributions, and the prompt tokens.

:class:`PromptSampler` draws :class:`~wpgd_theory.Prompts` (as ``jax.numpy`` arrays) from a
:class:`~wpgd_theory.MultitaskModel` or a :class:`~wpgd_theory.CorrelatedTaskModel` with the same
construction as their NumPy ``sample`` methods (the task factor ``F`` with ``FFᵀ`` the joint task
correlation, ``x = U diag(√s) z``, ``y = xᵀβ + ε``), so a jitted training step can draw fresh
prompts with ``jax.random``. The random streams differ from NumPy's; the distribution is the same
(tests compare moments).

:func:`prompt_tokens` lays the prompts out as tokens: the multitask layout of
:func:`~wpgd_theory.multitask_prompt_tokens` (``[x_i; y_i; 0]``, delimiter ``[0; 0; c^k]`` after
block ``k``, query ``[x; 0; 0]``), or without delimiters the layout of
:func:`~wpgd_theory.theorem1_prompt` (``[x_i; y_i]``, then ``[x; 0]``).
"""
from __future__ import annotations

import numpy as np

from ..core.model import CorrelatedTaskModel, Prompts
from ..multitask.model import MultitaskModel, as_delimiter_features, delimiter_positions
from ._jax import jax, jnp

__all__ = ["PromptSampler", "prompt_tokens", "token_layout"]


def _normal(key, shape, dtype):
    """Standard normals drawn flat behind an optimisation barrier, then reshaped.

    On CPU, letting XLA fuse ``jax.random.normal`` of a multi-axis shape into its consumers made
    one training step 4–8× slower and its compilation take seconds; the flat draw does not.
    """
    flat = jax.random.normal(key, (int(np.prod(shape)),), dtype)
    return jax.lax.optimization_barrier(flat).reshape(shape)


class PromptSampler:
    """Draw prompts of a task model with ``jax.random`` (jit- and vmap-friendly).

    Parameters
    ----------
    model : MultitaskModel or CorrelatedTaskModel
    dtype : jax dtype, optional
        ``float32`` (default; see docs/training.md for the choice) or ``float64`` (needs
        ``jax_enable_x64``).

    Examples
    --------
    >>> import jax
    >>> from wpgd_theory import MultitaskModel
    >>> model = MultitaskModel(np.eye(2), [0.2, 0.8], [3, 3], np.eye(4), 0.1)
    >>> prompts = PromptSampler(model).sample(jax.random.PRNGKey(0), 5)
    >>> prompts.context_inputs.shape, prompts.context_labels.shape, prompts.query_label.shape
    ((5, 6, 4), (5, 6), (5,))
    """

    def __init__(self, model, dtype=None):
        if isinstance(model, MultitaskModel):
            labels = np.concatenate([model.block_labels(), [model.K]])
        elif isinstance(model, CorrelatedTaskModel):
            labels = np.arange(model.n + 1)
        else:
            raise TypeError(f"model must be a MultitaskModel or CorrelatedTaskModel, got "
                            f"{type(model).__name__}")
        self.dtype = jnp.float32 if dtype is None else dtype
        self.model = model
        self.n, self.d = int(model.n), int(model.d)
        self._factor = jnp.asarray(model._task_factor, self.dtype)      # FFᵀ = joint correlation
        self._labels = jnp.asarray(labels)
        sqrt_sigma = model.sigma_eigenvectors * np.sqrt(model.sigma_eigenvalues)
        self._sqrt_sigma_t = jnp.asarray(sqrt_sigma.T, self.dtype)
        self._noise = float(np.sqrt(model.sigma2))
        self._identity_sigma = bool(np.array_equal(model.Sigma, np.eye(self.d)))
        # Multitask: the examples use the K + 1 task vectors in runs (block k, then the query).
        self._runs = None
        if isinstance(model, MultitaskModel):
            self._runs = [(k, int(size)) for k, size in enumerate(model.sizes)] + [(model.K, 1)]

    def sample(self, key, batch_size):
        """``batch_size`` prompts as :class:`~wpgd_theory.Prompts` of ``jax.numpy`` arrays."""
        b, n, d, groups = batch_size, self.n, self.d, self._factor.shape[0]
        sizes = (b * groups * d, b * (n + 1) * d, b * (n + 1))
        normal = _normal(key, (sum(sizes),), self.dtype)          # one draw, sliced
        task_normal = normal[:sizes[0]].reshape(b, groups, d)
        inputs = normal[sizes[0]:sizes[0] + sizes[1]].reshape(b, n + 1, d)
        if not self._identity_sigma:
            inputs = inputs @ self._sqrt_sigma_t
        tasks = jnp.einsum("ij,bjd->bid", self._factor, task_normal)
        labels = jnp.sum(inputs * self._expand(tasks), axis=-1)
        if self._noise:
            labels = labels + self._noise * normal[sizes[0] + sizes[1]:].reshape(b, n + 1)
        return Prompts(inputs[:, :n], labels[:, :n], inputs[:, n], labels[:, n])

    def _expand(self, tasks):
        """Task vector of every example: static slices and broadcasts (no gather)."""
        if self._runs is None:
            return tasks[:, self._labels]
        b, _, d = tasks.shape
        return jnp.concatenate([jnp.broadcast_to(tasks[:, g:g + 1], (b, length, d))
                                for g, length in self._runs], axis=1)


def token_layout(sizes, delimiters=True):
    """Row order of the tokens: ``order[p]`` is the row of ``[data; delimiters; query]`` at
    position ``p`` of the prompt (positions from :func:`~wpgd_theory.delimiter_positions`).

    Examples
    --------
    >>> token_layout([2, 1]).tolist()          # x x | x | query
    [0, 1, 3, 2, 4, 5]
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    n, K = int(sizes.sum()), sizes.size
    if not delimiters:
        return np.arange(n + 1)
    positions = delimiter_positions(sizes)
    data = np.setdiff1d(np.arange(n + K), positions)
    source = np.concatenate([data, positions, [n + K]])     # prompt position of each row
    return np.argsort(source)


def prompt_tokens(prompts, sizes=None, delimiter_features=None, *, delimiters=True):
    """Tokens ``Z`` of prompts, with delimiters (multitask layout) or without (Theorem 1 layout).

    Parameters
    ----------
    prompts : Prompts
        NumPy or JAX arrays.
    sizes : array_like of int, shape (K,), optional
        Block sizes; needed when ``delimiters`` is true.
    delimiter_features : array_like, shape (K, d_c), optional
        Rows ``c^k`` (default ``I_K``).
    delimiters : bool, optional
        ``False``: tokens ``[x_i; y_i]`` and the query ``[x; 0]`` (width ``d + 1``).

    Returns
    -------
    jax array, shape (b, T, D)
        ``T = n + K + 1, D = d + 1 + d_c`` with delimiters, ``T = n + 1, D = d + 1`` without.

    Examples
    --------
    >>> from wpgd_theory import Prompts, multitask_prompt_tokens
    >>> X = np.array([[[1.0], [2.0], [3.0]]]); y = np.array([[10.0, 20.0, 30.0]])
    >>> prompts = Prompts(X, y, np.array([[7.0]]), np.zeros(1))
    >>> Z = prompt_tokens(prompts, [2, 1])
    >>> bool(np.array_equal(np.asarray(Z), multitask_prompt_tokens(prompts, [2, 1])))
    True
    """
    X = jnp.asarray(prompts.context_inputs)
    y = jnp.asarray(prompts.context_labels)
    x = jnp.asarray(prompts.query_input)
    b, n, d = X.shape
    data = jnp.concatenate([X, y[..., None]], axis=-1)
    query = jnp.concatenate([x, jnp.zeros_like(x[..., :1])], axis=-1)[:, None, :]
    if not delimiters:
        return jnp.concatenate([data, query], axis=1)
    if sizes is None:
        raise ValueError("sizes is required when delimiters=True")
    F = jnp.asarray(as_delimiter_features(delimiter_features, len(sizes)), X.dtype)
    K, d_c = F.shape
    data = jnp.concatenate([data, jnp.zeros((b, n, d_c), X.dtype)], axis=-1)
    delimiter_rows = jnp.concatenate([jnp.zeros((K, d + 1), X.dtype), F], axis=-1)
    pieces, start = [], 0
    for k, size in enumerate(np.asarray(sizes, dtype=np.int64).tolist()):   # the layout of
        pieces.append(data[:, start:start + size])                          # token_layout,
        pieces.append(jnp.broadcast_to(delimiter_rows[k], (b, 1, d + 1 + d_c)))  # by slices
        start += size
    pieces.append(jnp.concatenate([query, jnp.zeros((b, 1, d_c), X.dtype)], axis=-1))
    return jnp.concatenate(pieces, axis=1)
