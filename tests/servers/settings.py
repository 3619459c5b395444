"""Settings of the server processes the ``servers`` tests start: the suite's, with GZipMiddleware first (as a site
that compresses its responses has it), tuned through the environment."""

from __future__ import annotations

import os

from tests.settings import *  # noqa: F403
from tests.settings import MIDDLEWARE

MIDDLEWARE = ["django.middleware.gzip.GZipMiddleware", *MIDDLEWARE]
EXPORTS_COPY = os.environ.get("EXPORTS_COPY", "1") == "1"
EXPORTS_BUFFER_SIZE = int(os.environ.get("EXPORTS_BUFFER_SIZE", str(64 * 1024)))
DEBUG = False
