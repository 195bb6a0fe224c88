"""Training GLA models against the theory (optional extra ``wpgd-theory[train]``: JAX + optax).

* :mod:`~wpgd_theory.training.data` — JAX sampler of the package's prompt distributions, tokens;
* :mod:`~wpgd_theory.training.models` — constrained Theorem-1/4 GLA, full GLA layer, free WPGD;
* :mod:`~wpgd_theory.training.multilayer` — L-layer GLA (Theorem 6), the SAA optimum of L-step
  WPGD;
* :mod:`~wpgd_theory.training.softmax` — one-layer softmax attention, a trained baseline;
* :mod:`~wpgd_theory.training.train` — :func:`train`, :func:`train_seeds`,
  :func:`build_architecture` (and the names of the modules below, re-exported);
* :mod:`~wpgd_theory.training.theory` — the class optimum (:func:`theory_optimum`) and the learned
  weights read against it;
* :mod:`~wpgd_theory.training.result` — :class:`TrainResult`;
* :mod:`~wpgd_theory.training.evaluation` — Monte Carlo test risk paired with the optimum
  (:func:`evaluate`);
* :mod:`~wpgd_theory.training.scale`, :mod:`~wpgd_theory.training.arguments`,
  :mod:`~wpgd_theory.training.fit` — the normalised model (:func:`task_scale`), argument checks and
  size limits, the jitted training loop;
* :mod:`~wpgd_theory.training.experiments` — Figure 1 overlay, JSON configurations;
* :mod:`~wpgd_theory.training.trap` — where training from many initialisations ends when the risk
  has several minima.

Importing this subpackage without JAX raises an ImportError naming the extra.
"""
from __future__ import annotations

from .data import *
from .data import __all__ as _data_all
from .experiments import *
from .experiments import __all__ as _experiments_all
from .models import *
from .models import __all__ as _models_all
from .multilayer import *
from .multilayer import __all__ as _multilayer_all
from .softmax import *
from .softmax import __all__ as _softmax_all
from .train import *
from .train import __all__ as _train_all
from .trap import *
from .trap import __all__ as _trap_all

__all__ = [*_data_all, *_models_all, *_multilayer_all, *_softmax_all, *_train_all,
           *_experiments_all, *_trap_all]
