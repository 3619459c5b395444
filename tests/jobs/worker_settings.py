"""Settings of the worker processes the job tests start: the servers' settings, with the engine and its queue taken
from the environment (each test run uses a Redis database and queue names of its own)."""

from __future__ import annotations

import os

from tests.servers.settings import *  # noqa: F403

EXPORTS_JOB_ENQUEUE = os.environ.get("EXPORTS_JOB_ENQUEUE", "exports.tasks.enqueue")
EXPORTS_RQ_URL = os.environ.get("EXPORTS_RQ_URL", "redis://127.0.0.1:6379/7")
EXPORTS_RQ_QUEUE = os.environ.get("EXPORTS_RQ_QUEUE", "exports-tests")
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/7")
CELERY_QUEUE = os.environ.get("CELERY_QUEUE", "exports-tests")
