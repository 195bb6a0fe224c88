"""``python -m wpgd_theory.cli``: the ``wpgd-theory`` console script."""
import sys

from . import main

sys.exit(main())
