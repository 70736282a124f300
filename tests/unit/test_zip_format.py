"""The package's ZIP records: sizes and CRC-32 in every local header, no data descriptors.

Java's ``ZipInputStream`` (and so Greengrass nucleus releases that unzip that way) reads the
local headers in order and refuses a STORED entry that has a data descriptor.
"""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from pulumi_dda import _zip, samples
from pulumi_dda.package import Package, build_package

MANIFEST = {"model_graph": {"stages": [{"type": "classification"}]}}
DATA_DESCRIPTOR_FLAG = 0x08


@dataclass(frozen=True)
class Header:
    """The fields a local header and its central-directory record share."""

    name: str
    version_needed: int
    flags: int
    method: int
    dos_time: int
    dos_date: int
    crc: int
    compressed_size: int
    size: int


def _zip64_sizes(extra: bytes, size: int, compressed: int, offset: int) -> tuple[int, int, int]:
    while extra:
        tag, length = struct.unpack_from("<HH", extra)
        body, extra = extra[4 : 4 + length], extra[4 + length :]
        if tag == 1:
            values = list(struct.unpack(f"<{length // 8}Q", body))
            if size == 0xFFFFFFFF:
                size = values.pop(0)
            if compressed == 0xFFFFFFFF:
                compressed = values.pop(0)
            if offset == 0xFFFFFFFF:
                offset = values.pop(0)
    return size, compressed, offset


def _central_records(raw: bytes) -> list[tuple[Header, int]]:
    end = raw.rindex(b"PK\x05\x06")
    count, _, directory = struct.unpack_from("<HII", raw, end + 10)
    if directory == 0xFFFFFFFF:
        locator = raw.rindex(b"PK\x06\x07")
        (end64,) = struct.unpack_from("<Q", raw, locator + 8)
        count, _, directory = struct.unpack_from("<QQQ", raw, end64 + 32)
    records, at = [], directory
    for _ in range(count):
        fields = struct.unpack_from("<4s4B4H3L5HLL", raw, at)
        assert fields[0] == b"PK\x01\x02"
        flags, method, time, date, crc, compressed, size = fields[5:12]
        name_len, extra_len, comment_len = fields[12:15]
        offset = fields[18]
        name = raw[at + 46 : at + 46 + name_len].decode()
        extra = raw[at + 46 + name_len : at + 46 + name_len + extra_len]
        size, compressed, offset = _zip64_sizes(extra, size, compressed, offset)
        header = Header(name, fields[3], flags, method, time, date, crc, compressed, size)
        records.append((header, offset))
        at += 46 + name_len + extra_len + comment_len
    return records


def _local_header(raw: bytes, offset: int) -> tuple[Header, int]:
    fields = struct.unpack_from("<4s5H3L2H", raw, offset)
    assert fields[0] == b"PK\x03\x04"
    version, flags, method, time, date, crc, compressed, size, name_len, extra_len = fields[1:]
    name = raw[offset + 30 : offset + 30 + name_len].decode()
    extra = raw[offset + 30 + name_len : offset + 30 + name_len + extra_len]
    size, compressed, _ = _zip64_sizes(extra, size, compressed, 0)
    data_start = offset + 30 + name_len + extra_len
    return Header(name, version, flags, method, time, date, crc, compressed, size), data_start


def check_headers(path: Path) -> list[Header]:
    """Every local header is complete and equal to its central-directory record."""
    raw = path.read_bytes()
    records = _central_records(raw)
    expected_offset = 0
    for central, offset in records:
        local, data_start = _local_header(raw, offset)
        assert offset == expected_offset, "records follow each other, nothing in between"
        assert not local.flags & DATA_DESCRIPTOR_FLAG, f"{local.name} has a data descriptor"
        assert local == central
        data = raw[data_start : data_start + local.compressed_size]
        plain = zlib.decompress(data, -15) if local.method == _zip.DEFLATED else data
        assert len(plain) == local.size
        assert zlib.crc32(plain) == local.crc
        expected_offset = data_start + local.compressed_size
    return [central for central, _ in records]


def _big_model(path: Path, order: list[str]) -> Path:
    """Members over the 256 KiB sample, so their data streams and headers are rewritten."""
    payloads = {
        "compiled.params": bytes(range(256)) * 3000,  # compressible, so deflated and streamed
        "weights/a.bin": samples.random.Random(1).randbytes(700_000),  # stored, streamed
        "libdlr.so": b"\x7fELF" + bytes(5000),
        "compiled_model.json": b'{"nodes": []}' * 10,
    }
    with tarfile.open(path, "w:gz") as tar:
        for name in order:
            info = tarfile.TarInfo(name)
            info.size = len(payloads[name])
            info.mode = 0o755 if name.endswith(".so") else 0o644
            tar.addfile(info, io.BytesIO(payloads[name]))
    return path


ORDERS = {
    "sorted": ["compiled.params", "compiled_model.json", "libdlr.so", "weights/a.bin"],
    "reversed": ["weights/a.bin", "libdlr.so", "compiled_model.json", "compiled.params"],
    "big last": ["compiled_model.json", "libdlr.so", "weights/a.bin", "compiled.params"],
}


def _build(src: Path, out: Path) -> Package:
    with src.open("rb") as stream:
        return build_package(stream, MANIFEST, "classification", out)


@pytest.mark.parametrize("order", sorted(ORDERS))
def test_local_headers_hold_crc_and_sizes_and_agree_with_the_directory(
    tmp_path: Path, order: str
) -> None:
    package = _build(_big_model(tmp_path / "m.tar.gz", ORDERS[order]), tmp_path / "out")
    headers = check_headers(package.path)
    assert [h.name for h in headers] == [
        "manifest.json",
        "classification/",
        "classification/compiled.params",
        "classification/compiled_model.json",
        "classification/libdlr.so",
        "classification/weights/",
        "classification/weights/a.bin",
    ]
    methods = {h.name: h.method for h in headers}
    assert methods["classification/compiled.params"] == _zip.DEFLATED
    assert methods["classification/weights/a.bin"] == _zip.STORED
    with zipfile.ZipFile(package.path) as zf:
        assert zf.testzip() is None


def test_member_order_does_not_change_the_bytes_of_streamed_members(tmp_path: Path) -> None:
    built = {
        order: _build(_big_model(tmp_path / f"{i}.tar.gz", names), tmp_path / f"o{i}")
        for i, (order, names) in enumerate(ORDERS.items())
    }
    assert len({p.path.read_bytes() for p in built.values()}) == 1
    assert [list(p.path.parent.iterdir()) for p in built.values()] == [
        [p.path] for p in built.values()
    ]


def test_zip64_records_where_sizes_and_offsets_need_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_zip, "ZIP64_LIMIT", 300_000)
    package = _build(_big_model(tmp_path / "m.tar.gz", ORDERS["big last"]), tmp_path / "out")
    headers = {h.name: h for h in check_headers(package.path)}
    assert headers["classification/weights/a.bin"].version_needed == _zip.ZIP64_VERSION
    assert headers["classification/libdlr.so"].version_needed == _zip.VERSION
    assert b"PK\x06\x06" in package.path.read_bytes()
    with zipfile.ZipFile(package.path) as zf:
        assert zf.testzip() is None
        assert len(zf.read("classification/weights/a.bin")) == 700_000


JAVA_READER = """
import java.io.*;
import java.util.zip.*;

public class ReadZip {
    public static void main(String[] args) throws Exception {
        try (ZipInputStream in = new ZipInputStream(new FileInputStream(args[0]))) {
            byte[] buffer = new byte[1 << 16];
            for (ZipEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                long n = 0;
                for (int r; (r = in.read(buffer)) > 0; ) n += r;
                System.out.println(e.getName() + " " + e.getMethod() + " " + n);
            }
        }
    }
}
"""


@pytest.mark.skipif(shutil.which("java") is None, reason="no JDK on PATH")
@pytest.mark.parametrize("zip64", [False, True], ids=["zip32", "zip64"])
def test_java_zip_input_stream_reads_every_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zip64: bool
) -> None:
    if zip64:
        monkeypatch.setattr(_zip, "ZIP64_LIMIT", 300_000)
    package = _build(_big_model(tmp_path / "m.tar.gz", ORDERS["big last"]), tmp_path / "out")
    (tmp_path / "ReadZip.java").write_text(JAVA_READER)
    result = subprocess.run(
        ["java", str(tmp_path / "ReadZip.java"), str(package.path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(package.path) as zf:
        expected = [f"{i.filename} {i.compress_type} {i.file_size}" for i in zf.infolist()]
    assert result.stdout.splitlines() == expected
