"""The streaming HTTP response of an export, for WSGI and ASGI servers alike."""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterator

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponseBase, StreamingHttpResponse
from django.utils.http import content_disposition_header

CONTENT_TYPE = "text/csv; charset=utf-8"


def download_headers(response: HttpResponseBase, *, filename: str, content_type: str = CONTENT_TYPE) -> None:
    """The headers of a download, on a streamed response and on the answer to ``HEAD`` alike."""
    response["Content-Type"] = content_type
    # Never None for an attachment (the django-stubs of 5.2 type it as possibly None).
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename) or "attachment"
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"


def streaming_response(
    request: HttpRequest, chunks: Generator[bytes, None, None], *, filename: str, content_type: str = CONTENT_TYPE
) -> StreamingHttpResponse:
    """Stream ``chunks`` as an attachment; under ASGI through an async iterator, so nothing is buffered whole.

    The response owns ``chunks`` from here: the server closes it when it is done with the response, or gives up.
    """
    response = StreamingHttpResponse(_async_chunks(chunks) if isinstance(request, ASGIRequest) else chunks)
    download_headers(response, filename=filename, content_type=content_type)
    return response


#: Under ASGI, bytes gathered per trip to the sync thread: each trip costs a thread hand-over and an event-loop turn.
ASGI_BLOCK = 256 * 1024


def _take(chunks: Iterator[bytes], size: int) -> bytes | None:
    """The next chunks, joined until they hold ``size`` bytes (one chunk for ``size`` 0); ``None`` at the end."""
    taken: list[bytes] = []
    length = 0
    for chunk in chunks:
        taken.append(chunk)
        length += len(chunk)
        if length >= size:
            break
    return b"".join(taken) if taken else None


async def _async_chunks(chunks: Generator[bytes, None, None]) -> AsyncIterator[bytes]:
    """Drive the sync stream in the request's sync thread (where its connection lives), a block of chunks per trip.

    Under ASGI, Django consumes a *sync* iterator whole into memory before it sends a byte; an async iterator streams.
    A client that disconnects cancels this generator, and ``finally`` closes the stream (its cursor and transaction)
    in that same thread.
    """
    take = sync_to_async(_take, thread_sensitive=True)
    try:
        size = 0  # the first chunk goes out alone, at once
        while (block := await take(chunks, size)) is not None:
            yield block
            size = ASGI_BLOCK
    finally:
        await sync_to_async(chunks.close, thread_sensitive=True)()
