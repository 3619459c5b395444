"""Writing an export to a file whole or not at all."""

from __future__ import annotations

import contextlib
import gzip
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


def write_atomically(path: str | os.PathLike[str], chunks: Iterable[bytes]) -> None:
    """Write ``chunks`` to ``path``, gzip-compressed when it ends in ``.gz``.

    The data goes to a temporary file in the same folder, which is renamed over ``path`` only once every chunk is
    written and flushed to disk: an error, a crash or Ctrl-C leaves neither a partial file nor a stray temporary one
    (a hard kill can leave the hidden temporary file, never a partial ``path``).
    """
    target = Path(path)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent or ".")
    try:
        with os.fdopen(descriptor, "wb") as raw:
            if target.suffix == ".gz":
                # mtime=0: the same data gives the same bytes. Level 6 (gzip's own default): Python's default of 9
                # costs much more time for a file barely smaller.
                with gzip.GzipFile(
                    filename=target.stem, mode="wb", fileobj=raw, mtime=0, compresslevel=6
                ) as compressed:
                    for chunk in chunks:
                        compressed.write(chunk)
            else:
                for chunk in chunks:
                    raw.write(chunk)
            raw.flush()
            os.fsync(raw.fileno())
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, target)
    except BaseException:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
