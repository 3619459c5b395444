"""Writing an export to a file whole or not at all, leaving nothing behind whatever ends the process.

On Linux the data goes to an unnamed file in the target's folder (``O_TMPFILE``): it has no name until every chunk is
written and flushed, so even a ``SIGKILL`` or a power cut leaves nothing a user can see. It is then linked under a
temporary name and renamed over the target (a link cannot replace an existing file; a rename can, atomically).

Elsewhere (macOS, or a filesystem that refuses ``O_TMPFILE``) the data goes to a named temporary file beside the
target, called ``.{name}~{host}~{pid}~{token}.exports-part``, removed on any error or interrupt. Only a hard kill can
leave one; the next write into the same folder removes every such file whose process is gone from this host.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO, Final

from exports.slots import HOST, process_alive

#: The suffix of every temporary file this module names; the sweep removes nothing else.
SUFFIX: Final = ".exports-part"
#: This host as a temporary file's name holds it (a host name has no ``~``).
_HOST: Final = HOST[:60]
#: ``open(folder, O_TMPFILE)`` fails with one of these where the kernel or the filesystem has no unnamed files.
_NO_TMPFILE = {errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOSYS}
#: How a file is created: read-write for everyone the process's umask (or the folder's default ACL) allows. The kernel
#: applies the umask as it creates the file, as for any file a program creates, so the mode is never computed here:
#: nothing reads or changes the process-wide umask, which another thread of a server or worker may rely on meanwhile.
_MODE: Final = 0o666


def write_atomically(path: str | os.PathLike[str], chunks: Iterable[bytes]) -> None:
    """Write ``chunks`` to ``path``, gzip-compressed when it ends in ``.gz``.

    ``path`` appears, or is replaced, only once every chunk is written and flushed to disk: an error, a crash, Ctrl-C
    or a signal leaves neither a partial file nor a stray temporary one, and an existing file stays as it was.
    """
    target = Path(path)
    folder = target.parent
    remove_stale_temporaries(folder)
    descriptor, temporary = _create(folder, target.name)
    try:
        with os.fdopen(descriptor, "wb", closefd=False) as raw:
            _write(raw, target, chunks)
            raw.flush()
            os.fsync(raw.fileno())
        if temporary is None:
            temporary = _temporary_name(folder, target.name)
            _name(descriptor, temporary)
        os.replace(temporary, target)
    except BaseException:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
        if temporary is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
        raise
    finally:
        os.close(descriptor)


def remove_stale_temporaries(folder: str | os.PathLike[str]) -> list[str]:
    """Remove the temporary files in ``folder`` left by processes of this host that are gone; their names."""
    removed: list[str] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed  # the write itself reports a missing or unreadable folder
    for entry in entries:
        owner = _owner(entry.name)
        if owner is None or owner[0] != _HOST or owner[1] == os.getpid() or process_alive(owner[1]):
            continue
        with contextlib.suppress(FileNotFoundError):
            os.unlink(entry.path)
            removed.append(entry.name)
    return removed


def _create(folder: Path, name: str) -> tuple[int, Path | None]:
    """A new file for the data: an unnamed one where possible (no name: ``None``), else a named temporary."""
    tmpfile = getattr(os, "O_TMPFILE", None)
    if tmpfile is not None and os.path.isdir("/proc/self/fd"):
        try:
            return os.open(folder, tmpfile | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0), _MODE), None
        except OSError as error:
            if error.errno not in _NO_TMPFILE:
                raise
    temporary = _temporary_name(folder, name)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    return os.open(temporary, flags, _MODE), temporary


def _name(descriptor: int, path: Path) -> None:
    """Give the unnamed file open as ``descriptor`` its first name, ``path``."""
    folder = os.open(path.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        # With a dir_fd, ``follow_symlinks`` makes this linkat(AT_SYMLINK_FOLLOW): the link is made to the file the
        # descriptor's /proc entry stands for. A plain link() would link that /proc entry itself, across filesystems.
        os.link(f"/proc/self/fd/{descriptor}", path.name, dst_dir_fd=folder, follow_symlinks=True)
    finally:
        os.close(folder)


def _temporary_name(folder: Path, name: str) -> Path:
    # The target's name is there for whoever lists the folder; shortened so the whole stays within a name's limit.
    return folder / f".{name[:80]}~{_HOST}~{os.getpid()}~{secrets.token_hex(4)}{SUFFIX}"


def _owner(name: str) -> tuple[str, int] | None:
    """The host and pid in the name of one of our temporary files, or ``None`` for any other file."""
    if not name.startswith(".") or not name.endswith(SUFFIX):
        return None
    parts = name.removesuffix(SUFFIX).rsplit("~", 3)
    if len(parts) != 4 or not parts[2].isdigit():
        return None
    return parts[1], int(parts[2])


def _write(raw: BinaryIO, target: Path, chunks: Iterable[bytes]) -> None:
    if target.suffix == ".gz":
        # mtime=0: the same data gives the same bytes. Level 6 (gzip's own default): Python's default of 9 costs much
        # more time for a file barely smaller.
        with gzip.GzipFile(filename=target.stem, mode="wb", fileobj=raw, mtime=0, compresslevel=6) as compressed:
            for chunk in chunks:
                compressed.write(chunk)
    else:
        for chunk in chunks:
            raw.write(chunk)
