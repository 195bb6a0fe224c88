"""The optional JAX + optax dependency of the training subpackage (extra ``wpgd-theory[train]``)."""
from __future__ import annotations

try:
    import jax
    import jax.numpy as jnp
    import optax
except ImportError as exc:                                   # pragma: no cover - env dependent
    raise ImportError("wpgd_theory.training needs JAX and optax: "
                      "pip install 'wpgd-theory[train]'") from exc

__all__ = ["jax", "jnp", "optax"]
