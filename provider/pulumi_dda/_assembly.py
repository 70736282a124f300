"""A ZIP whose entries arrive in any order and are laid out in sorted order, copying little.

Entries are written as they arrive into ``body``, the ZIP under a temporary name, which always
holds records in sorted name order. An entry that sorts before the end of ``body`` moves the
records after it (a contiguous tail, usually small) to an unnamed spool and takes their place;
an entry that sorts after something already waiting in the spool waits there too. At the end the
spool's records are appended in order and the central directory follows. So a tar whose members
arrive sorted is written once, and no byte is ever written more than three times.

Each record (local header and data) is position-independent; only the central directory holds
offsets. A header is written before its data and rewritten once the CRC-32 and sizes are known;
an entry whose data is all in hand (directories, small members) is written in one go.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import os
import tempfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from io import BufferedRandom
from pathlib import Path

from . import _zip
from ._decompress import crc32

BUFFER = 64 * 1024


def deflate(data: bytes) -> bytes:
    """Raw deflate at level 6 by the standard library's zlib, as the ZIP entries are written."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


@dataclass
class _Record:
    """Where one entry's local header and data are."""

    entry: _zip.Entry
    file: BufferedRandom
    offset: int
    length: int


def _copy(
    src: BufferedRandom, offset: int, length: int, buffer: memoryview, dst: BufferedRandom
) -> None:
    src.seek(offset)
    while length:
        n = src.readinto(buffer[: min(len(buffer), length)])
        if not n:  # pragma: no cover - the records were written just before
            raise OSError("a temporary file of the package ended early")
        dst.write(buffer[:n])
        length -= n


def _write_data(
    file: BufferedRandom, method: int, sample: bytes, rest: Iterable[memoryview]
) -> tuple[int, int]:
    """Write (deflating if asked) the data; its CRC-32 and the number of bytes written."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15) if method == _zip.DEFLATED else None
    crc = written = 0
    for chunk in itertools.chain((memoryview(sample),), rest):
        crc = crc32(chunk, crc)
        out = compressor.compress(chunk) if compressor is not None else chunk
        written += len(out)
        file.write(out)
    if compressor is not None:
        tail = compressor.flush()
        written += len(tail)
        file.write(tail)
    return crc, written


class Assembler:
    """Pass 1: :meth:`add` entries in any order; pass 2: :meth:`finish` the sorted ZIP.

    ``first`` names an entry that goes first whatever its name (``manifest.json``). Call
    :meth:`discard` in every case: it removes the temporary files, and the named one unless
    :meth:`finish` renamed it.
    """

    def __init__(self, out_dir: Path, first: str) -> None:
        self._out_dir = out_dir
        self._first = first
        fd, name = tempfile.mkstemp(dir=out_dir, prefix=".partial-", suffix=".zip")
        self._body: BufferedRandom = os.fdopen(fd, "w+b")
        self._body_path: Path | None = Path(name)
        self._body_keys: list[tuple[bool, str]] = []
        self._spool: BufferedRandom | None = None
        self._waiting: dict[str, _Record] = {}
        self._first_waiting = ""
        self._buffer = memoryview(bytearray(BUFFER))
        self.records: dict[str, _Record] = {}

    def _key(self, name: str) -> tuple[bool, str]:
        return (name != self._first, name)

    def discard(self) -> None:
        self._body.close()
        if self._body_path is not None:
            self._body_path.unlink(missing_ok=True)
        if self._spool is not None:
            self._spool.close()

    def add(self, entry: _zip.Entry, sample: bytes, rest: Iterable[memoryview] = ()) -> None:
        """Write ``entry``, whose data is ``sample`` followed by ``rest``."""
        key = self._key(entry.name)
        if self._body_keys and key < self._body_keys[-1]:
            self._make_room(key)
        waits = bool(self._waiting) and key > self._key(self._first_waiting)
        file = self._spool_file() if waits else self._body
        record = self._write(file, entry, sample, rest)
        self.records[entry.name] = record
        if waits:
            self._wait(record)
        else:
            self._body_keys.append(key)

    def _spool_file(self) -> BufferedRandom:
        if self._spool is None:
            self._spool = tempfile.TemporaryFile(dir=self._out_dir)  # noqa: SIM115 - discard()
        return self._spool

    def _wait(self, record: _Record) -> None:
        name = record.entry.name
        if not self._waiting or self._key(name) < self._key(self._first_waiting):
            self._first_waiting = name
        self._waiting[name] = record

    def _make_room(self, key: tuple[bool, str]) -> None:
        """Move the records of ``body`` that sort after ``key`` to the spool."""
        index = bisect.bisect_right(self._body_keys, key)
        moved = [name for _, name in self._body_keys[index:]]
        start = self.records[moved[0]].offset
        end = self._body.seek(0, os.SEEK_END)
        spool = self._spool_file()
        spool_start = spool.seek(0, os.SEEK_END)
        _copy(self._body, start, end - start, self._buffer, spool)
        self._body.seek(start)
        self._body.truncate()
        del self._body_keys[index:]
        for name in moved:
            record = self.records[name]
            record.file, record.offset = spool, spool_start + record.offset - start
            self._wait(record)

    def _write(
        self, file: BufferedRandom, entry: _zip.Entry, sample: bytes, rest: Iterable[memoryview]
    ) -> _Record:
        offset = file.seek(0, os.SEEK_END)
        if entry.size == len(sample):
            packed = deflate(sample) if entry.method == _zip.DEFLATED else sample
            entry.crc, entry.compressed_size = crc32(sample, 0), len(packed)
            file.write(entry.local_header())
            file.write(packed)
        else:
            file.write(entry.local_header())  # the same length once the CRC and sizes are in
            entry.crc, entry.compressed_size = _write_data(file, entry.method, sample, rest)
            end = file.tell()
            file.seek(offset)
            file.write(entry.local_header())
            file.seek(end)
        return _Record(entry, file, offset, file.tell() - offset)

    def finish(self, name_for: Callable[[str], str]) -> tuple[Path, str, int]:
        """Append what waits and the central directory; rename by SHA-256: (path, sha256, size)."""
        body = self._body
        for name in sorted(self._waiting, key=self._key):
            record = self._waiting[name]
            offset = body.seek(0, os.SEEK_END)
            _copy(record.file, record.offset, record.length, self._buffer, body)
            record.file, record.offset = body, offset
            self._body_keys.append(self._key(name))
        self._waiting.clear()
        records = [self.records[name] for _, name in self._body_keys]
        directory = b"".join(r.entry.central_header(r.offset) for r in records)
        start = body.seek(0, os.SEEK_END)
        body.write(directory + _zip.end_records(len(records), start, len(directory)))
        size = body.tell()
        sha = hashlib.sha256()
        body.seek(0)
        while n := body.readinto(self._buffer):
            sha.update(self._buffer[:n])
        body.close()
        digest = sha.hexdigest()
        final = self._out_dir / name_for(digest)
        if self._body_path is None:
            raise RuntimeError("finish() was already called")
        os.replace(self._body_path, final)
        self._body_path = None
        return final, digest, size
