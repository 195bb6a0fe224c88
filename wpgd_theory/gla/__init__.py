"""GLA: gated linear attention forward passes, Theorem 1 (GLA ⇔ data-dependent WPGD), the gate
families of real architectures, the flash-linear-attention adapter, multi-layer GLA (Theorem 6) and
reading a trained layer's induced preconditioners and weights (``gla.checkpoint``).

Builds on :mod:`wpgd_theory.core`.
"""
from __future__ import annotations

# The modules under private names, bound before the star imports (core.risk defines a
# function called `risk`).
from . import checkpoint as _checkpoint
from . import fla_adapter as _fla_adapter
from . import forward as _forward
from . import gates as _gates
from . import multilayer as _multilayer
from . import theorem1 as _theorem1
from .checkpoint import *  # noqa: F401,F403
from .fla_adapter import *  # noqa: F401,F403
from .forward import *  # noqa: F401,F403
from .gates import *  # noqa: F401,F403
from .multilayer import *  # noqa: F401,F403
from .theorem1 import *  # noqa: F401,F403

__all__ = [
    name
    for module in (_forward, _theorem1, _gates, _fla_adapter, _multilayer, _checkpoint)
    for name in module.__all__  # noqa: F405
]
