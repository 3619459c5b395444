"""Settings of the server processes the ``servers`` tests start (the test suite's, tuned through the environment)."""

from __future__ import annotations

import os

from tests.settings import *  # noqa: F403

EXPORTS_COPY = os.environ.get("EXPORTS_COPY", "1") == "1"
EXPORTS_BUFFER_SIZE = int(os.environ.get("EXPORTS_BUFFER_SIZE", str(64 * 1024)))
DEBUG = False
