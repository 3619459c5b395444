"""Reading ahead in a helper thread: same items, same errors, and the source closed before the reader returns."""

from __future__ import annotations

from collections.abc import Generator

import pytest

from exports.sources.readahead import read_ahead


def numbers(count: int, closed: list[str], fail_at: int | None = None) -> Generator[int, None, None]:
    try:
        for number in range(count):
            if number == fail_at:
                raise ValueError(f"no {number}")
            yield number
    finally:
        closed.append("closed")


def test_the_same_items_in_order():
    closed: list[str] = []
    assert list(read_ahead(numbers(1000, closed))) == list(range(1000))
    assert closed == ["closed"]


def test_an_error_in_the_source_is_raised_to_the_reader():
    closed: list[str] = []
    reader = read_ahead(numbers(10, closed, fail_at=5))
    assert [next(reader) for _ in range(5)] == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="no 5"):
        next(reader)
    assert closed == ["closed"]


def test_closing_the_reader_closes_the_source_first():
    closed: list[str] = []
    reader = read_ahead(numbers(1_000_000, closed))
    assert next(reader) == 0
    reader.close()  # the source is suspended far ahead of the reader, or blocked handing over
    assert closed == ["closed"]
