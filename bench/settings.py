"""The benchmark's server settings: the demo project, the bench views, and a bench user on every request."""

from __future__ import annotations

import importlib.util
import os

from project.settings import *  # noqa: F403
from project.settings import INSTALLED_APPS, MIDDLEWARE

DEBUG = False
ROOT_URLCONF = "bench.urls"
MIDDLEWARE = [*MIDDLEWARE, "bench.views.BenchUserMiddleware"]
if importlib.util.find_spec("import_export") is not None:
    INSTALLED_APPS = [*INSTALLED_APPS, "import_export"]
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
if "BENCH_COPY_PARALLEL_WORKERS" in os.environ:  # a case that measures another setting
    EXPORTS_COPY_PARALLEL_WORKERS = int(os.environ["BENCH_COPY_PARALLEL_WORKERS"])
