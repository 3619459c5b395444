"""Where background exports keep their files: the ``STORAGES["exports"]`` alias, or a private folder by default.

A file is written to a local temporary file first (unnamed where the system allows, so nothing of it outlives a
killed worker) and handed to the storage only once it is complete: a storage never holds a partial export under a
name a job points to. The default storage goes further and renames a complete temporary file into place, so even a
worker killed while copying leaves no partial file under the final name.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import secrets
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, storages

from exports.conf import app_settings

#: The alias of the storage in ``STORAGES``.
ALIAS = "exports"


class PrivateFileSystemStorage(FileSystemStorage):
    """A ``FileSystemStorage`` for files only the service's user may read (0600 in folders of 0700), with no URL,
    that writes each file under a temporary name and renames it into place when complete."""

    def __init__(self, location: str | os.PathLike[str] | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("file_permissions_mode", 0o600)
        kwargs.setdefault("directory_permissions_mode", 0o700)
        kwargs.setdefault("base_url", None)
        super().__init__(location=location, **kwargs)

    def url(self, name: str | None) -> str:
        raise NotImplementedError("Export files have no URL: they are downloaded through their job's link.")

    def _save(self, name: str, content: File[Any]) -> str:
        target = Path(self.path(name))
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # mkstemp creates the file readable by its owner only; the rename makes it appear whole or not at all.
        descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        try:
            with os.fdopen(descriptor, "wb") as output:
                for chunk in content.chunks():
                    output.write(chunk)
                output.flush()
                os.fsync(output.fileno())
            if self.file_permissions_mode is not None:
                os.chmod(temporary, self.file_permissions_mode)
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        return name

    def partial_files(self) -> Iterator[Path]:
        """Temporary files a killed worker left behind (for the cleanup command)."""
        root = Path(self.location)
        if root.is_dir():
            yield from root.glob(".*.part")


def get_storage() -> Storage:
    """The storage of job files: ``STORAGES["exports"]`` when the project declares it, else a private folder."""
    if ALIAS in settings.STORAGES:
        return storages[ALIAS]
    return PrivateFileSystemStorage(location=default_location())


def default_location() -> str:
    configured = app_settings.JOB_FILES_DIR
    if configured:
        return str(configured)
    user = os.getuid() if hasattr(os, "getuid") else "user"
    return str(Path(tempfile.gettempdir()) / f"django-exports-{user}")


def new_name(extension: str) -> str:
    """An unguessable name for a new file (256 random bits), ending in ``extension`` (``.csv``, ``.csv.gz``)."""
    return f"{secrets.token_urlsafe(32)}{extension}"


def store(chunks: Iterable[bytes], *, extension: str, compress: bool) -> tuple[str, int]:
    """Write ``chunks`` to a new file in the storage, gzip-compressed when asked; its name and stored size.

    The stored file appears only once every chunk is written; an error, or a closed ``chunks``, stores nothing.
    """
    with tempfile.TemporaryFile(prefix="exports-job-") as spool:
        _spool(chunks, spool, compress=compress)
        size = spool.tell()
        spool.seek(0)
        storage = get_storage()
        name = storage.save(new_name(extension + (".gz" if compress else "")), File(spool))
    return name, size


def _spool(chunks: Iterable[bytes], output: IO[bytes], *, compress: bool) -> None:
    if not compress:
        for chunk in chunks:
            output.write(chunk)
        return
    # mtime=0: the same data gives the same bytes; level 6 (gzip's own default) costs far less time than 9.
    with gzip.GzipFile(fileobj=output, mode="wb", mtime=0, compresslevel=6) as compressed:
        for chunk in chunks:
            compressed.write(chunk)


def delete(name: str) -> int:
    """Delete a stored file; the bytes it freed (0 when it was gone already)."""
    storage = get_storage()
    try:
        size = storage.size(name)
    except (FileNotFoundError, OSError):
        size = 0
    with contextlib.suppress(FileNotFoundError):
        storage.delete(name)
    return size
