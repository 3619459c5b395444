"""A ZIP archive written front to back, for a stream: no seeking, entries whose size is only known at their end.

Only what a workbook needs: deflated entries with ASCII names, no comments, no encryption, one disk.

* A *whole* entry (a small part known at once) carries its CRC and sizes in its local header.
* A *streamed* entry (a sheet) sets bit 3 of its flags: its local header holds zeros and a data descriptor after the
  data gives the CRC and sizes. Its local header says version 4.5 (ZIP64) because Excel asks to repair a workbook
  whose streamed part turns out past 4 GiB under a local header of an older version; it has no extra field, because
  Excel also refuses a ZIP64 extra field in a local header.
* ZIP64 only where a value needs it: a data descriptor has 8-byte sizes when a size passed 4 GiB (4-byte otherwise,
  which readers that follow the local headers expect), the central directory gives a ZIP64 extra field to an entry
  whose size or offset passed 4 GiB, and the end record gets its ZIP64 twin when the directory starts past 4 GiB.

Each method returns the bytes to send next; the writer keeps only counters and one small record per entry.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import ClassVar, Final

_LOCAL = struct.Struct("<IHHHHHIIIHH")
_DESCRIPTOR_32 = struct.Struct("<IIII")
_DESCRIPTOR_64 = struct.Struct("<IIQQ")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
_END_64 = struct.Struct("<IQHHIIQQQQ")
_LOCATOR_64 = struct.Struct("<IIQI")

_DEFLATED: Final = 8
_STREAMED: Final = 0x08  # flag bit 3: CRC and sizes follow the data
_VERSION_20: Final = 20
_VERSION_45: Final = 45
_DOS_DATE: Final = (0 << 9) | (1 << 5) | 1  # 1980-01-01, the earliest ZIP date: the bytes do not depend on the clock
_DOS_TIME: Final = 0


@dataclass(frozen=True, slots=True)
class _Entry:
    name: bytes
    offset: int
    crc: int
    compressed: int
    size: int
    streamed: bool


class ZipWriter:
    """Writes a ZIP archive as a sequence of ``bytes``: :meth:`whole` entries, :meth:`start` … :meth:`write` …
    :meth:`end` streamed ones, then :meth:`finish`."""

    #: The largest value a 4-byte field holds; past it ZIP64 takes over.
    LIMIT_32: ClassVar[int] = 0xFFFFFFFF

    def __init__(self, *, level: int) -> None:
        self.level = level
        self._offset = 0
        self._entries: list[_Entry] = []
        self._name = b""
        self._start = 0
        self._crc = 0
        self._size = 0
        self._compressed = 0
        self._deflate: zlib._Compress | None = None

    def whole(self, name: str, data: bytes) -> bytes:
        """A complete entry: its local header, then its deflated data."""
        deflate = zlib.compressobj(self.level, zlib.DEFLATED, -zlib.MAX_WBITS)
        body = deflate.compress(data) + deflate.flush()
        crc = zlib.crc32(data)
        encoded = name.encode("ascii")
        header = _LOCAL.pack(
            0x04034B50, _VERSION_20, 0, _DEFLATED, _DOS_TIME, _DOS_DATE, crc, len(body), len(data), len(encoded), 0
        )
        self._entries.append(_Entry(encoded, self._offset, crc, len(body), len(data), streamed=False))
        return self._sent(header + encoded + body)

    def start(self, name: str) -> bytes:
        """The local header of an entry whose data follows in :meth:`write` calls."""
        assert self._deflate is None, "end() the streamed entry first"
        self._name = name.encode("ascii")
        self._start = self._offset
        self._crc = self._size = self._compressed = 0
        self._deflate = zlib.compressobj(self.level, zlib.DEFLATED, -zlib.MAX_WBITS)
        header = _LOCAL.pack(
            0x04034B50, _VERSION_45, _STREAMED, _DEFLATED, _DOS_TIME, _DOS_DATE, 0, 0, 0, len(self._name), 0
        )
        return self._sent(header + self._name)

    def write(self, data: bytes) -> bytes:
        """The deflated bytes of ``data`` that zlib lets go now (often fewer than it was given, sometimes none)."""
        assert self._deflate is not None, "start() an entry first"
        self._crc = zlib.crc32(data, self._crc)
        self._size += len(data)
        out = self._deflate.compress(data)
        self._compressed += len(out)
        return self._sent(out)

    def end(self) -> bytes:
        """The rest of the streamed entry's data, then its data descriptor."""
        assert self._deflate is not None, "start() an entry first"
        out = self._deflate.flush()
        self._deflate = None
        compressed = self._compressed + len(out)
        wide = compressed > self.LIMIT_32 or self._size > self.LIMIT_32
        descriptor = (_DESCRIPTOR_64 if wide else _DESCRIPTOR_32).pack(0x08074B50, self._crc, compressed, self._size)
        self._entries.append(_Entry(self._name, self._start, self._crc, compressed, self._size, streamed=True))
        return self._sent(out + descriptor)

    def finish(self) -> bytes:
        """The central directory and the end record(s)."""
        assert self._deflate is None, "end() the streamed entry first"
        start = self._offset
        directory = b"".join(map(self._central, self._entries))
        length = len(directory)
        count = len(self._entries)
        tail = b""
        if start > self.LIMIT_32 or length > self.LIMIT_32 or count > 0xFFFF:
            end_64 = start + length
            tail = _END_64.pack(0x06064B50, 44, _VERSION_45, _VERSION_45, 0, 0, count, count, length, start)
            tail += _LOCATOR_64.pack(0x07064B50, 0, end_64, 1)
            count, length, start = min(count, 0xFFFF), self._field(length), self._field(start)
        tail += _END.pack(0x06054B50, 0, 0, count, count, length, start, 0)
        return self._sent(directory + tail)

    def _central(self, entry: _Entry) -> bytes:
        # The ZIP64 extra field holds, in this order, only the values whose 4-byte field says 0xFFFFFFFF.
        extra = [value for value in (entry.size, entry.compressed, entry.offset) if value > self.LIMIT_32]
        size, compressed, offset = (self._field(v) for v in (entry.size, entry.compressed, entry.offset))
        field = struct.pack(f"<HH{len(extra)}Q", 0x0001, 8 * len(extra), *extra) if extra else b""
        version = _VERSION_45 if entry.streamed or extra else _VERSION_20
        flags = _STREAMED if entry.streamed else 0
        header = _CENTRAL.pack(
            0x02014B50,
            version,
            version,
            flags,
            _DEFLATED,
            _DOS_TIME,
            _DOS_DATE,
            entry.crc,
            compressed,
            size,
            len(entry.name),
            len(field),
            0,
            0,
            0,
            0,
            offset,
        )
        return header + entry.name + field

    def _field(self, value: int) -> int:
        """A 4-byte field's value: 0xFFFFFFFF when the real one is in a ZIP64 record."""
        return 0xFFFFFFFF if value > self.LIMIT_32 else value

    def _sent(self, data: bytes) -> bytes:
        self._offset += len(data)
        return data
