"""Core: the data model, validation, the WPGD predictor, the closed-form risk, the spectral maps
h₁/h₂ and the optimal-WPGD solver (docs/theory.md §1–§5).

The lowest layer: it imports nothing else of ``wpgd_theory``.
"""
from __future__ import annotations

# The modules under private names, bound before the star imports (core.risk defines a
# function called `risk`).
from . import batched as _batched
from . import bayes as _bayes
from . import model as _model
from . import multiprecision as _multiprecision
from . import parallel as _parallel
from . import predictor as _predictor
from . import risk as _risk
from . import solver as _solver
from . import spectral as _spectral
from . import uniqueness as _uniqueness
from .batched import *  # noqa: F401,F403
from .bayes import *  # noqa: F401,F403
from .model import *  # noqa: F401,F403
from .multiprecision import *  # noqa: F401,F403
from .parallel import *  # noqa: F401,F403
from .predictor import *  # noqa: F401,F403
from .risk import *  # noqa: F401,F403
from .solver import *  # noqa: F401,F403
from .spectral import *  # noqa: F401,F403
from .uniqueness import *  # noqa: F401,F403

__all__ = [
    name
    for module in (_model, _predictor, _risk, _spectral, _solver, _uniqueness, _batched,
                   _parallel, _multiprecision, _bayes)
    for name in module.__all__  # noqa: F405
]
