"""Verification: interval certificates for the fixed point, the counterexample search and stationary
points, brute-force optimisation, and (as the submodule :mod:`wpgd_theory.verify.symbolic`, not
imported here because it loads SymPy) the symbolic statements and proofs.

May build on every other library layer.
"""
from __future__ import annotations

# The modules under private names, bound before the star imports (core.risk defines a
# function called `risk`).
from . import brute_force as _brute_force
from . import certify as _certify
from . import enclosures as _enclosures
from . import erratum as _erratum
from . import search as _search
from .brute_force import *  # noqa: F401,F403
from .certify import *  # noqa: F401,F403
from .enclosures import *  # noqa: F401,F403
from .erratum import *  # noqa: F401,F403
from .search import *  # noqa: F401,F403

__all__ = [
    name
    for module in (_certify, _enclosures, _search, _brute_force, _erratum)
    for name in module.__all__  # noqa: F405
]
