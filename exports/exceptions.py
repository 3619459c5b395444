"""Errors a caller can cause; each carries reasons fit to show them (HTTP 400 text, an admin message, stderr)."""

from __future__ import annotations

from collections.abc import Sequence


class ExportError(Exception):
    """A request for an export that cannot be served as asked; ``messages`` says why, one reason each."""

    def __init__(self, messages: str | Sequence[str]) -> None:
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__(" ".join(self.messages))


class ExportNotFound(ExportError, LookupError):
    """No export is registered under the name."""


class UnknownFormat(ExportError, LookupError):
    """No format is registered under the name or extension, or the export does not allow it."""


class InvalidFilters(ExportError):
    """A filter is not allowed for the export, or its value is not valid."""


class InvalidColumns(ExportError):
    """A requested column is not one of the export's, or a required column was left out."""


class TooManyRows(ExportError):
    """The export would write more rows than its ``max_rows`` (or ``EXPORTS_MAX_ROWS``) allows."""


class ExportBusy(ExportError):
    """The user already runs as many exports as ``EXPORTS_MAX_CONCURRENT_PER_USER`` allows; retry later."""

    def __init__(self, messages: str | Sequence[str], *, retry_after: int) -> None:
        super().__init__(messages)
        self.retry_after = retry_after
