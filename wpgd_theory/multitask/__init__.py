"""Multitask prompts with delimiters, their optimal WPGD, the gating classes of Theorems 4–5 and the
Corollary, and the Figure-1 theory curves.

Builds on :mod:`wpgd_theory.core` and :mod:`wpgd_theory.gla`.
"""
from __future__ import annotations

# The modules under private names, bound before the star imports (core.risk defines a
# function called `risk`).
from . import bayes as _bayes
from . import curves as _curves
from . import explain as _explain
from . import gating as _gating
from . import model as _model
from . import vector_gating as _vector_gating
from .bayes import *  # noqa: F401,F403
from .curves import *  # noqa: F401,F403
from .explain import *  # noqa: F401,F403
from .gating import *  # noqa: F401,F403
from .model import *  # noqa: F401,F403
from .vector_gating import *  # noqa: F401,F403

__all__ = [
    name
    for module in (_model, _vector_gating, _gating, _curves, _bayes, _explain)
    for name in module.__all__  # noqa: F405
]
