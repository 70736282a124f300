"""The ZIP records of a model package, byte for byte.

Every local header carries the entry's CRC-32 and sizes, so no entry has a data descriptor
(general-purpose flag bit 3): streaming readers such as Java's ``ZipInputStream`` (and so
Greengrass nucleus releases that unzip that way) refuse STORED entries with one. Fields follow
:mod:`zipfile`'s choices: version 2.0 (4.5 with ZIP64), Unix as the creating system, the
UTF-8 flag only for non-ASCII names, ZIP64 extra fields only where a size or offset needs them,
with :mod:`zipfile`'s limit (2 GiB - 1) and its rule for the local header (ZIP64 when the
uncompressed size times 1.05 exceeds the limit, decided before the data is written).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

STORED = 0
DEFLATED = 8
ZIP64_LIMIT = (1 << 31) - 1
MAX_ENTRIES = 0xFFFF
MAX_NAME_BYTES = 0xFFFF
"""A name's length is a 16-bit field of both headers."""
DOS_TIME_1980 = 0  # 00:00:00
DOS_DATE_1980 = (0 << 9) | (1 << 5) | 1  # 1980-01-01
VERSION = 20
ZIP64_VERSION = 45
UNIX = 3
UTF8_FLAG = 0x800
MSDOS_DIRECTORY = 0x10

_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_CENTRAL = struct.Struct("<4sBBBBHHHHIIIHHHHHII")
_END = struct.Struct("<4sHHHHIIH")
_END64 = struct.Struct("<4sQHHIIQQQQ")
_LOCATOR64 = struct.Struct("<4sIQI")
LOCAL_HEADER_SIZE = _LOCAL.size


@dataclass
class Entry:
    """One ZIP entry; ``crc``, ``compressed_size`` and ``size`` are final before its header."""

    name: str
    mode: int
    method: int = STORED
    crc: int = 0
    compressed_size: int = 0
    size: int = 0
    zip64: bool = False

    @classmethod
    def for_size(cls, name: str, mode: int, method: int, size: int) -> Entry:
        return cls(name, mode, method, size=size, zip64=size * 1.05 > ZIP64_LIMIT)

    def _name(self) -> tuple[bytes, int]:
        try:
            return self.name.encode("ascii"), 0
        except UnicodeEncodeError:
            return self.name.encode("utf-8"), UTF8_FLAG

    def header_size(self) -> int:
        return LOCAL_HEADER_SIZE + len(self._name()[0]) + (20 if self.zip64 else 0)

    def local_header(self) -> bytes:
        name, flags = self._name()
        extra = b""
        compressed_size, size = self.compressed_size, self.size
        if self.zip64:
            extra = struct.pack("<HHQQ", 1, 16, size, compressed_size)
            compressed_size = size = 0xFFFFFFFF
        version = ZIP64_VERSION if self.zip64 else VERSION
        return (
            _LOCAL.pack(
                b"PK\x03\x04",
                version,
                flags,
                self.method,
                DOS_TIME_1980,
                DOS_DATE_1980,
                self.crc,
                compressed_size,
                size,
                len(name),
                len(extra),
            )
            + name
            + extra
        )

    def central_header(self, offset: int) -> bytes:
        name, flags = self._name()
        fields: list[int] = []
        compressed_size, size = self.compressed_size, self.size
        if self.zip64:
            fields += [size, compressed_size]
            compressed_size = size = 0xFFFFFFFF
        if offset > ZIP64_LIMIT:
            fields.append(offset)
            offset = 0xFFFFFFFF
        extra = struct.pack(f"<HH{len(fields)}Q", 1, 8 * len(fields), *fields) if fields else b""
        version = ZIP64_VERSION if extra else VERSION
        attributes = self.mode << 16 | (MSDOS_DIRECTORY if self.name.endswith("/") else 0)
        return (
            _CENTRAL.pack(
                b"PK\x01\x02",
                version,
                UNIX,
                version,
                0,
                flags,
                self.method,
                DOS_TIME_1980,
                DOS_DATE_1980,
                self.crc,
                compressed_size,
                size,
                len(name),
                len(extra),
                0,
                0,
                0,
                attributes,
                offset,
            )
            + name
            + extra
        )


def end_records(count: int, directory_offset: int, directory_size: int) -> bytes:
    """The end-of-central-directory record, preceded by the ZIP64 ones when needed."""
    records = b""
    if count > MAX_ENTRIES or directory_offset > ZIP64_LIMIT or directory_size > ZIP64_LIMIT:
        end64_offset = directory_offset + directory_size
        records = _END64.pack(
            b"PK\x06\x06",
            44,
            ZIP64_VERSION,
            ZIP64_VERSION,
            0,
            0,
            count,
            count,
            directory_size,
            directory_offset,
        ) + _LOCATOR64.pack(b"PK\x06\x07", 0, end64_offset, 1)
        count = min(count, MAX_ENTRIES)
        directory_offset = min(directory_offset, 0xFFFFFFFF)
        directory_size = min(directory_size, 0xFFFFFFFF)
    return records + _END.pack(
        b"PK\x05\x06", 0, 0, count, count, directory_size, directory_offset, 0
    )
