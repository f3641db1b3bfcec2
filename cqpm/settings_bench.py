"""`make bench`: the production settings (what is measured) plus the development-only `bench` app,
whose bare page (/bench/bare) is the benchmark's reference. Never deploy with these settings."""

from .settings_production import *  # noqa: F403
from .settings_production import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench"]
CQPM_BENCH = True
