"""Root pytest configuration: Hypothesis profiles.

``HYPOTHESIS_PROFILE=thorough pytest`` runs many more examples than the default CI profile.
``HYPOTHESIS_PROFILE=random pytest --hypothesis-seed=N`` runs the default number of examples but
new ones for each ``N`` (the default profile is derandomised, and then ignores the seed).
"""
import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", max_examples=25, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough", max_examples=1000, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "random", max_examples=25, deadline=None, derandomize=False, database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
