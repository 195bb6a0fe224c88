"""Sweeps: large studies built on the batched solver and executor-based chunking
(:mod:`wpgd_theory.core.parallel`) — the uniqueness phase diagram and its command-line entry.

The top layer with training and the CLI: may import every library layer.
"""
from __future__ import annotations

from . import phase as _phase
from . import run as _run
from .phase import *  # noqa: F401,F403
from .run import *  # noqa: F401,F403

__all__ = [name for module in (_phase, _run) for name in module.__all__]
