"""The servers' settings: the suite's, with GZipMiddleware first, as a site that compresses its responses has it."""

from __future__ import annotations

from tests.settings import *  # noqa: F403
from tests.settings import MIDDLEWARE

MIDDLEWARE = ["django.middleware.gzip.GZipMiddleware", *MIDDLEWARE]
