"""Engines that run background exports outside Django's Tasks API (``EXPORTS_JOB_ENQUEUE``)."""
