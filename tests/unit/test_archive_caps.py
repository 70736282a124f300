"""Caps that hold against hostile tar headers, long names and compression, in both archive
readers: the trained model (read at check, the preview) and a compiled model (read when
packaging). Every archive is built here, byte for byte where ``tarfile`` would not write it."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from pulumi_dda import samples
from pulumi_dda.build import read_manifest
from pulumi_dda.errors import ArchiveError
from pulumi_dda.package import ArchiveLimits, build_package

MiB = 1024 * 1024
HEADER_CAP = MiB  # _tarread.MAX_EXTENSION_BYTES, spelled out: the cap the README documents
MANIFEST = {"model_graph": {"stages": [{"type": "classification"}]}, "dataset": {}}
Member = tuple[tarfile.TarInfo, bytes]


def _member(name: str, data: bytes = b"payload", **attributes: object) -> Member:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 1_700_000_000
    for key, value in attributes.items():
        setattr(info, key, value)
    return info, data


def _trained_members() -> list[Member]:
    """What a trained model needs, so a refusal can only come from what a test adds."""
    export = {"model_graph": samples.SAMPLE_MODEL_GRAPH, "input_shape": [1, 3, 224, 224]}
    return [
        _member("config.yaml", b"dataset: {image_width: 224, image_height: 224}\n"),
        _member("export_artifacts/manifest.json", json.dumps(export).encode()),
        _member("export_artifacts/model.pt", b"pytorch-weights"),
    ]


def _write(
    path: Path,
    members: list[Member],
    *,
    fmt: int = tarfile.PAX_FORMAT,
    pax_headers: dict[str, str] | None = None,
) -> Path:
    with tarfile.open(path, "w:gz", format=fmt, pax_headers=pax_headers) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data))
    return path


def _raw(info: tarfile.TarInfo, data: bytes) -> bytes:
    """One header block (any type, any size field) and its data padded to a block."""
    header = info.tobuf(tarfile.USTAR_FORMAT, "utf-8", "surrogateescape")
    return header + data + bytes(-len(data) % tarfile.BLOCKSIZE)


def _extension(kind: bytes, data: bytes) -> bytes:
    info = tarfile.TarInfo("././@PaxHeader" if kind == tarfile.XHDTYPE else "././@LongLink")
    info.type = kind
    info.size = len(data)
    return _raw(info, data)


def _write_raw(path: Path, blocks: bytes) -> Path:
    path.write_bytes(gzip.compress(blocks + bytes(2 * tarfile.BLOCKSIZE)))
    return path


def _pax_record(keyword: str, value: bytes) -> bytes:
    body = b" " + keyword.encode() + b"=" + value + b"\n"
    length = len(body) + 1
    while len(str(length)) + len(body) != length:
        length += 1
    return str(length).encode() + body


def _read_trained(path: Path, limits: ArchiveLimits | None) -> None:
    read_manifest(str(path), limits=limits)


def _package(path: Path, limits: ArchiveLimits | None) -> None:
    with path.open("rb") as stream:
        build_package(
            stream, MANIFEST, "classification", path.parent / "out", source=str(path), limits=limits
        )


def _left(tmp_path: Path) -> list[Path]:
    """What packaging left in its output directory (the trained reader writes nothing)."""
    out = tmp_path / "out"
    return list(out.iterdir()) if out.exists() else []


READERS: dict[str, Callable[[Path, ArchiveLimits | None], None]] = {
    "trained model at check": _read_trained,
    "compiled model at packaging": _package,
}


def _base(reader: str) -> list[Member]:
    return _trained_members() if reader.startswith("trained") else []


def _peak_while(read: Callable[[], None]) -> tuple[int, BaseException | None]:
    tracemalloc.start()
    error: BaseException | None = None
    try:
        read()
    except Exception as exc:
        error = exc
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak, error


# -- extension headers (PAX x/g, GNU L/K) ----------------------------------------------------


def _huge_pax(path: Path, base: list[Member], size: int) -> Path:
    weights = _member("weights.bin", pax_headers={"comment": "x" * size})
    return _write(path, [*base, weights])


def _huge_global(path: Path, base: list[Member], size: int) -> Path:
    return _write(path, base or [_member("a.bin")], pax_headers={"comment": "x" * size})


def _huge_long_name(path: Path, base: list[Member], size: int) -> Path:
    return _write(path, [*base, _member("w/" + "n" * size)], fmt=tarfile.GNU_FORMAT)


def _huge_long_link(path: Path, base: list[Member], size: int) -> Path:
    link = _member("link", b"", type=tarfile.SYMTYPE, linkname="l" * size)
    return _write(path, [*base, link], fmt=tarfile.GNU_FORMAT)


HUGE_HEADERS = {
    "PAX extended header": _huge_pax,
    "PAX global header": _huge_global,
    "GNU long name": _huge_long_name,
    "GNU long link": _huge_long_link,
}


@pytest.mark.parametrize("kind", sorted(HUGE_HEADERS))
@pytest.mark.parametrize("reader", sorted(READERS))
def test_an_oversized_extension_header_is_refused_before_tarfile_reads_it(
    tmp_path: Path, reader: str, kind: str
) -> None:
    """The reported case: a 510 KB trained model drove the preview to 1.6 GiB with a 1 MB cap;
    16 MiB of header data here, which ``tarfile`` would read whole before any cap."""
    path = HUGE_HEADERS[kind](tmp_path / "hostile.tar.gz", _base(reader), 16 * MiB)
    assert path.stat().st_size < MiB  # small on the wire
    limits = ArchiveLimits(max_total_bytes=1_000_000)
    peak, error = _peak_while(lambda: READERS[reader](path, limits))
    assert isinstance(error, ArchiveError), error
    assert f"a {kind} of " in str(error)
    assert f"over the {HEADER_CAP}-byte cap" in str(error)
    assert "\n" not in str(error)
    assert peak < 4 * HEADER_CAP, f"peak {peak} bytes"
    assert _left(tmp_path) == []


@pytest.mark.parametrize("reader", sorted(READERS))
def test_extension_header_bytes_count_against_max_total_bytes(tmp_path: Path, reader: str) -> None:
    """600 KB of PAX data (under the per-header cap) and 500 KB of member data: over 1 MB."""
    weights = _member("weights.bin", bytes(500_000), pax_headers={"comment": "x" * 600_000})
    path = _write(tmp_path / "t.tar.gz", [*_base(reader), weights])
    with pytest.raises(ArchiveError, match=r"over the 1000000-byte cap .*max_total_bytes"):
        READERS[reader](path, ArchiveLimits(max_total_bytes=1_000_000))


@pytest.mark.parametrize("reader", sorted(READERS))
def test_chained_extension_headers_are_refused(tmp_path: Path, reader: str) -> None:
    """``tarfile`` parses each extension header by recursion: 600 in a row exhaust the stack."""
    blocks = b"".join(_raw(*m) for m in _base(reader))
    blocks += _extension(tarfile.GNUTYPE_LONGNAME, b"name\0") * 600 + _raw(*_member("a.bin"))
    path = _write_raw(tmp_path / "t.tar.gz", blocks)
    with pytest.raises(ArchiveError, match="has more than 7 extended headers before it"):
        READERS[reader](path, None)


MALFORMED_PAX = {
    # A valid record whose value is 40,000 digits: CPython's PAX regular expressions (before
    # 3.11.10 and 3.12.6) take quadratic time over it, seconds at this size, hours at 1 MiB.
    "digit run": (_pax_record("comment", b"1" * 40_000), "a run of more than 32 digits"),
    "record longer than the header": (b"99 path=x\n", "bad record length at byte 0"),
    "record without '='": (b"9 pathx\n\n", "bad record framing at byte 0"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED_PAX))
@pytest.mark.parametrize("reader", sorted(READERS))
def test_malformed_pax_data_is_refused_before_tarfile_parses_it(
    tmp_path: Path, reader: str, case: str
) -> None:
    data, reason = MALFORMED_PAX[case]
    blocks = b"".join(_raw(*m) for m in _base(reader))
    blocks += _extension(tarfile.XHDTYPE, data) + _raw(*_member("a.bin"))
    path = _write_raw(tmp_path / "t.tar.gz", blocks)
    with pytest.raises(ArchiveError, match="malformed PAX header") as info:
        READERS[reader](path, None)
    assert reason in str(info.value)


@pytest.mark.parametrize("reader", sorted(READERS))
def test_a_gnu_sparse_map_is_bounded_too(tmp_path: Path, reader: str) -> None:
    """GNU sparse 1.0: PAX keys make ``tarfile`` read a map of numbers from the member's data,
    as many as its first line says, into a list: 8 MiB of map here (32 MiB of list), refused at
    the cap."""
    pax = b"".join(
        _pax_record(k, v)
        for k, v in [("GNU.sparse.major", b"1"), ("GNU.sparse.minor", b"0"),
                     ("GNU.sparse.name", b"holes.bin"), ("GNU.sparse.realsize", b"1")]
    )  # fmt: skip
    sparse_map = b"4194304\n" + b"1\n" * (4 * MiB)
    blocks = b"".join(_raw(*m) for m in _base(reader))
    blocks += _extension(tarfile.XHDTYPE, pax) + _raw(
        *_member("GNUSparseFile.0/holes.bin", sparse_map)
    )
    path = _write_raw(tmp_path / "t.tar.gz", blocks)
    peak, error = _peak_while(lambda: READERS[reader](path, None))
    assert isinstance(error, ArchiveError), error
    assert "(extended headers, sparse map) are over the" in str(error)
    assert peak < 8 * HEADER_CAP, f"peak {peak} bytes"  # a list entry per 2-byte "1\n": 4x


@pytest.mark.parametrize("reader", sorted(READERS))
def test_ordinary_pax_and_gnu_headers_still_read(tmp_path: Path, reader: str) -> None:
    """What real tools write: a git-archive global header, long and non-ASCII names, PAX times."""
    members = [
        *_base(reader),
        _member("weights/" + "w" * 300 + ".bin", b"1" * 1000),
        _member("réglages/données.json", b"{}", pax_headers={"mtime": "1700000000.123456789"}),
    ]
    git = {"comment": "3f1a2b4c5d6e7f8091a2b3c4d5e6f708192a3b4c"}
    READERS[reader](_write(tmp_path / "pax.tar.gz", members, pax_headers=git), None)
    READERS[reader](_write(tmp_path / "gnu.tar.gz", members, fmt=tarfile.GNU_FORMAT), None)


# -- compression ratio -----------------------------------------------------------------------


def _zeros(path: Path, base: list[Member], size: int) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for info, data in base:
            tar.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo("zeros.bin")
        info.size = size
        tar.addfile(info, io.BytesIO(bytes(size)))
    return path


@pytest.mark.parametrize("reader", sorted(READERS))
def test_a_gzip_of_zeros_is_refused_by_the_compression_ratio(tmp_path: Path, reader: str) -> None:
    """80 MiB of zeros in 80 KB: well within max_total_bytes, but a preview reading it (and
    8 GiB of it at the default cap) would spend CPU in proportion: refused past 64 MiB."""
    path = _zeros(tmp_path / "zeros.tar.gz", _base(reader), 80 * MiB)
    assert path.stat().st_size < 200_000
    with pytest.raises(ArchiveError) as info:
        READERS[reader](path, None)
    message = str(info.value)
    assert "decompresses to more than 100 times its compressed size" in message
    assert "archive_limits.max_compression_ratio" in message
    assert "\n" not in message


@pytest.mark.parametrize("reader", sorted(READERS))
def test_a_raised_compression_ratio_takes_the_same_archive(tmp_path: Path, reader: str) -> None:
    path = _zeros(tmp_path / "zeros.tar.gz", _base(reader), 80 * MiB)
    READERS[reader](path, ArchiveLimits(max_compression_ratio=2000))


# -- names the ZIP format cannot hold --------------------------------------------------------


@pytest.mark.parametrize(
    ("name_bytes", "reason"),
    [
        (65_535 - len("classification/") + 1, "would be a 65536-byte path in the package, over "
         "the 65535-byte limit of a ZIP entry name"),
        (70_000, "has a 70000-byte name, over the 65535-byte cap on member names"),
    ],
)  # fmt: skip
def test_a_compiled_member_too_long_for_a_zip_entry_is_refused_at_its_header(
    tmp_path: Path, name_bytes: int, reason: str
) -> None:
    name = "w/" + "n" * (name_bytes - 2)
    path = _write(tmp_path / "c.tar.gz", [_member(name)], fmt=tarfile.GNU_FORMAT)
    with pytest.raises(ArchiveError) as info:
        _package(path, None)
    message = str(info.value)
    assert message.startswith(f"{path}: member 'w/nnn")
    assert reason in message
    assert len(message) < 400  # the name is cut short, not echoed whole
    assert _left(tmp_path) == []


def test_a_compiled_member_at_the_zip_name_limit_is_packaged(tmp_path: Path) -> None:
    name = "w/" + "n" * (65_535 - len("classification/w/"))
    path = _write(tmp_path / "c.tar.gz", [_member(name)], fmt=tarfile.GNU_FORMAT)
    _package(path, None)
    (package,) = (tmp_path / "out").iterdir()
    with zipfile.ZipFile(package) as zf:
        assert zf.read(f"classification/{name}") == b"payload"


def test_a_trained_member_name_over_the_limit_is_refused_at_check(tmp_path: Path) -> None:
    members = [*_trained_members(), _member("notes/" + "n" * 65_530)]
    path = _write(tmp_path / "t.tar.gz", members, fmt=tarfile.GNU_FORMAT)
    with pytest.raises(ArchiveError, match="has a 65536-byte name, over the 65535-byte cap"):
        read_manifest(str(path))
