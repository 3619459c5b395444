"""Files written whole or not at all, with the mode any new file gets, on Linux (unnamed files) and elsewhere."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator

import pytest

from exports import files

HAS_TMPFILE = getattr(os, "O_TMPFILE", None) is not None


@pytest.fixture(params=["unnamed", "named"])
def kind(request, monkeypatch) -> str:
    """Each test runs the way Linux writes (an unnamed file), and the way other systems do (a named temporary)."""
    if request.param == "unnamed" and not HAS_TMPFILE:
        pytest.skip("O_TMPFILE is Linux's")
    if request.param == "named":
        monkeypatch.delattr(os, "O_TMPFILE", raising=False)
    return str(request.param)


@pytest.fixture
def umask_027() -> Iterator[None]:
    previous = os.umask(0o027)
    try:
        yield
    finally:
        os.umask(previous)


def test_the_file_gets_the_mode_the_umask_allows_and_the_umask_is_left_alone(kind, tmp_path, umask_027, monkeypatch):
    # Changing the umask, even for a moment, would give the wrong mode to a file another thread creates meanwhile.
    calls: list[int] = []

    def umask(mask: int) -> int:
        calls.append(mask)
        return 0o027

    monkeypatch.setattr(os, "umask", umask)
    files.write_atomically(tmp_path / "a.csv", [b"a,b\r\n"])
    assert stat.S_IMODE((tmp_path / "a.csv").stat().st_mode) == 0o666 & ~0o027 == 0o640
    assert calls == []


def test_a_new_file_replaces_the_old_whole(kind, tmp_path):
    (tmp_path / "a.csv").write_bytes(b"old\n")
    files.write_atomically(tmp_path / "a.csv", iter([b"new,", b"rows\r\n"]))
    assert (tmp_path / "a.csv").read_bytes() == b"new,rows\r\n"
    assert os.listdir(tmp_path) == ["a.csv"]


def test_a_failure_leaves_the_folder_as_it_was(kind, tmp_path):
    (tmp_path / "a.csv").write_bytes(b"old\n")

    def chunks() -> Iterator[bytes]:
        yield b"x" * 100_000
        raise RuntimeError("midway")

    for name in ("a.csv", "b.csv.gz"):
        with pytest.raises(RuntimeError):
            files.write_atomically(tmp_path / name, chunks())
    assert os.listdir(tmp_path) == ["a.csv"]
    assert (tmp_path / "a.csv").read_bytes() == b"old\n"


@pytest.mark.skipif(not HAS_TMPFILE, reason="O_TMPFILE is Linux's")
@pytest.mark.parametrize("refusal", [errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL])
def test_a_filesystem_without_unnamed_files_gets_a_named_temporary(tmp_path, monkeypatch, refusal):
    real_open = os.open
    created = []

    def refusing_open(path, flags, *args, **kwargs):
        if flags & os.O_TMPFILE == os.O_TMPFILE:
            raise OSError(refusal, os.strerror(refusal))
        created.append(os.fspath(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing_open)
    files.write_atomically(tmp_path / "a.csv", [b"a\r\n"])
    assert (tmp_path / "a.csv").read_bytes() == b"a\r\n"
    assert os.listdir(tmp_path) == ["a.csv"]
    assert [os.path.basename(path).endswith(files.SUFFIX) for path in created] == [True]


def test_a_missing_folder_is_the_error_of_the_write(kind, tmp_path):
    with pytest.raises(FileNotFoundError):
        files.write_atomically(tmp_path / "missing" / "a.csv", [b"a\r\n"])
    assert os.listdir(tmp_path) == []
