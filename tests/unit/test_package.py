"""Phase 2: reproducible, streaming, safe packaging."""

from __future__ import annotations

import base64
import bz2
import gzip
import hashlib
import io
import json
import lzma
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pulumi_dda import samples
from pulumi_dda.errors import ArchiveError
from pulumi_dda.package import ArchiveLimits, Package, build_package, package_s3_key

MANIFEST = {"model_graph": {"stages": [{"type": "classification"}]}, "dataset": {}}


def _build(src: Path, out: Path, limits: ArchiveLimits | None = None) -> Package:
    with src.open("rb") as stream:
        return build_package(stream, MANIFEST, "classification", out, limits=limits)


def _tar(path: Path, members: list[tarfile.TarInfo], data: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for info in members:
            payload = data.get(info.name)
            if payload is not None:
                info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload) if payload is not None else None)
    return path


def _file(name: str, mode: int = 0o644, mtime: int = 0, uid: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mode = mode
    info.mtime = mtime
    info.uid = uid
    return info


def test_zip_layout_names_and_digest(tmp_path: Path) -> None:
    src = samples.write_compiled_model(tmp_path / "c.tar.gz")
    package = _build(src, tmp_path / "out")
    raw = package.path.read_bytes()
    sha = hashlib.sha256(raw).hexdigest()
    assert package.sha256 == sha
    assert package.size == len(raw)
    assert package.package_id == sha[:12]
    assert package.path.name == f"{sha[:12]}_greengrass_model_component.zip"
    assert package.digest == base64.b64encode(hashlib.sha256(raw).digest()).decode()
    assert package.s3_key("p/") == (
        f"p/model_artifacts/model-{sha[:12]}/{sha[:12]}_greengrass_model_component.zip"
    )
    with zipfile.ZipFile(package.path) as zf:
        assert zf.testzip() is None
        names = zf.namelist()
        assert names[0] == "manifest.json"
        assert names[1:] == sorted(names[1:])
        assert json.loads(zf.read("manifest.json")) == MANIFEST
        with tarfile.open(src) as tar:
            for member in tar.getmembers():
                assert zf.read(f"classification/{member.name}") == tar.extractfile(member).read()  # type: ignore[union-attr]
        infos = {i.filename: i for i in zf.infolist()}
    assert infos["classification/libdlr.so"].external_attr >> 16 == 0o100755
    assert infos["classification/compiled.params"].external_attr >> 16 == 0o100644
    assert infos["classification/compiled.params"].compress_type == zipfile.ZIP_STORED
    assert infos["classification/compiled_model.json"].compress_type == zipfile.ZIP_DEFLATED
    assert {i.date_time for i in infos.values()} == {(1980, 1, 1, 0, 0, 0)}
    assert list(package.path.parent.iterdir()) == [package.path]


def test_package_s3_key_without_prefix() -> None:
    assert package_s3_key("abcdef012345") == (
        "model_artifacts/model-abcdef012345/abcdef012345_greengrass_model_component.zip"
    )


def test_same_bytes_whatever_member_order_metadata_umask_time_and_directory(
    tmp_path: Path,
) -> None:
    data = {"b/x.bin": os.urandom(3000), "a.json": b'{"k": 1}' * 50, "run.sh": b"#!/bin/sh\n"}
    first = _tar(
        tmp_path / "1.tar.gz",
        [_file("a.json"), _file("b/x.bin"), _file("run.sh", 0o755)],
        data,
    )
    second = _tar(
        tmp_path / "2.tar.gz",
        [
            _file("run.sh", 0o700, mtime=12345, uid=1000),
            _file("b/x.bin", 0o600, mtime=99),
            _file("a.json", 0o664, mtime=5),
        ],
        data,
    )
    one = _build(first, tmp_path / "out-1")
    # The second build runs in another process, with another umask, time zone and directory.
    script = (
        "import os, sys, time; os.umask(0o077); os.environ['TZ'] = 'Asia/Tokyo'; time.tzset();"
        "from pathlib import Path; from pulumi_dda.package import build_package;"
        "p = build_package(open(sys.argv[1], 'rb'), "
        f"{MANIFEST!r}, 'classification', Path(sys.argv[2])); print(p.path)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(second), str(tmp_path / "elsewhere" / "deep")],
        capture_output=True,
        text=True,
        check=True,
    )
    other = Path(result.stdout.strip())
    assert other.read_bytes() == one.path.read_bytes()
    assert other.name == one.path.name
    with zipfile.ZipFile(one.path) as zf:
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
    assert modes["classification/run.sh"] == 0o100755
    assert modes["classification/b/"] == 0o40755


def test_explicit_directory_members_do_not_change_the_bytes(tmp_path: Path) -> None:
    data = {"d/e/f.bin": b"1234"}
    bare = _tar(tmp_path / "1.tar.gz", [_file("d/e/f.bin")], data)
    dir_info = _file("d", 0o700)
    dir_info.type = tarfile.DIRTYPE
    with_dirs = _tar(
        tmp_path / "2.tar.gz", [dir_info, _file("./d/e/f.bin")], {"./d/e/f.bin": data["d/e/f.bin"]}
    )
    assert (
        _build(bare, tmp_path / "o1").path.read_bytes()
        == _build(with_dirs, tmp_path / "o2").path.read_bytes()
    )


def test_different_content_gives_a_different_package(tmp_path: Path) -> None:
    one = _build(samples.write_compiled_model(tmp_path / "1.tar.gz", seed=1), tmp_path / "o")
    two = _build(samples.write_compiled_model(tmp_path / "2.tar.gz", seed=2), tmp_path / "o")
    assert one.package_id != two.package_id


_names = st.lists(
    st.text(alphabet="abcdefgh._-", min_size=1, max_size=6).filter(lambda s: s not in {".", ".."}),
    min_size=1,
    max_size=3,
).map("/".join)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    content=st.dictionaries(_names, st.binary(max_size=2000), min_size=1, max_size=8),
    order=st.randoms(use_true_random=False),
)
def test_property_order_independent_and_lossless(
    tmp_path_factory: pytest.TempPathFactory, content: dict[str, bytes], order: object
) -> None:
    files = set(content)
    # A name cannot be both a file and a directory in a real tree.
    if any(other.startswith(name + "/") for name in files for other in files):
        return
    work = tmp_path_factory.mktemp("prop")
    names = sorted(content)
    shuffled = list(names)
    order.shuffle(shuffled)  # type: ignore[attr-defined]
    one = _build(_tar(work / "1.tar.gz", [_file(n) for n in names], content), work / "o1")
    two = _build(_tar(work / "2.tar.gz", [_file(n) for n in shuffled], content), work / "o2")
    assert one.path.read_bytes() == two.path.read_bytes()
    with zipfile.ZipFile(one.path) as zf:
        stored = {
            i.filename.removeprefix("classification/"): zf.read(i)
            for i in zf.infolist()
            if not i.is_dir() and i.filename != "manifest.json"
        }
    assert stored == content
    assert one.sha256 == hashlib.sha256(one.path.read_bytes()).hexdigest()


def _special(name: str, kind: bytes, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


HOSTILE = {
    "absolute path": ([_file("/etc/evil")], "absolute path"),
    "dot-dot": ([_file("../evil")], "'..'"),
    "nested dot-dot": ([_file("a/../../evil")], "'..'"),
    "symlink": ([_special("link", tarfile.SYMTYPE, "/etc/passwd")], "link"),
    "hardlink": ([_file("a"), _special("hard", tarfile.LNKTYPE, "a")], "link"),
    "char device": ([_special("dev", tarfile.CHRTYPE)], "device"),
    "fifo": ([_special("fifo", tarfile.FIFOTYPE)], "FIFO"),
    "duplicate": ([_file("a"), _file("./a")], "duplicate"),
    "file and dir": ([_file("a"), _file("a/b")], "both a file and a directory"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_archives_are_rejected_and_leave_nothing(tmp_path: Path, case: str) -> None:
    members, message = HOSTILE[case]
    data = {m.name: b"payload" for m in members if m.isfile()}
    src = _tar(tmp_path / "hostile.tar.gz", members, data)
    work = tmp_path / "work"
    out = work / "out"
    with pytest.raises(ArchiveError, match=message):
        _build(src, out)
    assert list(out.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hostile.tar.gz", "work"]


def test_caps_on_total_bytes_and_member_count(tmp_path: Path) -> None:
    src = samples.write_compiled_model(tmp_path / "c.tar.gz", size=100_000)
    with pytest.raises(ArchiveError, match="over the 50000-byte cap"):
        _build(src, tmp_path / "o1", ArchiveLimits(max_total_bytes=50_000))
    with pytest.raises(ArchiveError, match="more than 3 members"):
        _build(src, tmp_path / "o2", ArchiveLimits(max_members=3))
    assert list((tmp_path / "o1").iterdir()) == list((tmp_path / "o2").iterdir()) == []
    assert _build(src, tmp_path / "o3", ArchiveLimits(100_000, 4)).size > 0


@pytest.mark.parametrize(
    "members", [[], [tarfile.TarInfo("weights")]], ids=["no members", "directories only"]
)
def test_an_archive_without_a_file_is_refused_and_leaves_nothing(
    tmp_path: Path, members: list[tarfile.TarInfo]
) -> None:
    for member in members:
        member.type = tarfile.DIRTYPE
    src = _tar(tmp_path / "empty.tar.gz", members, {})
    with pytest.raises(ArchiveError, match="holds no file, so there is no compiled model"):
        _build(src, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def test_a_truncated_archive_leaves_no_partial_zip(tmp_path: Path) -> None:
    src = samples.write_compiled_model(tmp_path / "c.tar.gz", size=200_000)
    truncated = tmp_path / "t.tar.gz"
    truncated.write_bytes(src.read_bytes()[:100_000])
    with pytest.raises(ArchiveError, match="not a readable"):
        _build(truncated, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def _tar_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, payload in members.items():
            info = _file(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return buffer.getvalue()


def test_gzip_bzip2_xz_plain_and_concatenated_gzip_give_the_same_package(
    tmp_path: Path,
) -> None:
    raw = _tar_bytes({"a.json": b'{"k": 1}' * 50, "w.bin": os.urandom(300_000)})
    half = len(raw) // 2
    archives = {
        "gz": gzip.compress(raw),
        "bz2": bz2.compress(raw),
        "xz": lzma.compress(raw),
        "tar": raw,
        "two gzip members": gzip.compress(raw[:half]) + gzip.compress(raw[half:]),
    }
    built = {}
    for kind, data in archives.items():
        src = tmp_path / f"{kind}.archive"
        src.write_bytes(data)
        built[kind] = _build(src, tmp_path / kind).path.read_bytes()
    assert len(set(built.values())) == 1


def test_the_same_bytes_without_zlib_ng(tmp_path: Path) -> None:
    src = samples.write_compiled_model(tmp_path / "c.tar.gz", size=600_000, shuffle=3)
    with_ng = _build(src, tmp_path / "ng")
    script = (
        "import sys; sys.modules['zlib_ng'] = None;"
        "from pathlib import Path; from pulumi_dda import _decompress;"
        "from pulumi_dda.package import build_package;"
        "assert _decompress.INFLATE.__name__ == 'zlib';"
        "p = build_package(open(sys.argv[1], 'rb'), "
        f"{MANIFEST!r}, 'classification', Path(sys.argv[2])); print(p.path)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(src), str(tmp_path / "zlib")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(result.stdout.strip()).read_bytes() == with_ng.path.read_bytes()


def test_a_root_directory_member_adds_no_entry(tmp_path: Path) -> None:
    root = _file(".", 0o755)
    root.type = tarfile.DIRTYPE
    data = {"./a.bin": b"1234"}
    with_root = _tar(tmp_path / "1.tar.gz", [root, _file("./a.bin")], data)
    bare = _tar(tmp_path / "2.tar.gz", [_file("a.bin")], {"a.bin": b"1234"})
    assert (
        _build(with_root, tmp_path / "o1").path.read_bytes()
        == _build(bare, tmp_path / "o2").path.read_bytes()
    )


def test_sparse_members_and_non_utf8_names_are_rejected(tmp_path: Path) -> None:
    sparse = _file("holes.bin")
    sparse.type = tarfile.GNUTYPE_SPARSE
    src = tmp_path / "sparse.tar"
    with tarfile.open(src, "w", format=tarfile.GNU_FORMAT) as tar:
        tar.addfile(sparse)
    with pytest.raises(ArchiveError, match="sparse"):
        _build(src, tmp_path / "o1")
    odd = tmp_path / "odd.tar"
    with tarfile.open(odd, "w", format=tarfile.GNU_FORMAT, encoding="latin-1") as tar:
        tar.addfile(_file("caf\xe9.bin"))
    with pytest.raises(ArchiveError, match="not UTF-8"), odd.open("rb") as stream:
        build_package(stream, MANIFEST, "c", tmp_path / "o2")
    assert list((tmp_path / "o1").iterdir()) == list((tmp_path / "o2").iterdir()) == []


def test_damaged_compressed_data_is_an_archive_error(tmp_path: Path) -> None:
    src = samples.write_compiled_model(tmp_path / "c.tar.gz", size=400_000)
    raw = bytearray(src.read_bytes())
    raw[len(raw) // 2 : len(raw) // 2 + 64] = bytes(64)
    src.write_bytes(bytes(raw))
    with pytest.raises(ArchiveError, match="not a readable"):
        _build(src, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def _neo(path: Path, requirements: object) -> Path:
    """A compiled model whose ``compiled.meta`` declares ``requirements`` (``None``: no meta)."""
    data = {"compiled.params": b"\x00" * 64, "libdlr.so": b"\x7fELF"}
    if requirements is not None:
        data["compiled.meta"] = json.dumps({"Requirements": requirements}).encode()
    return _tar(path, [_file(name) for name in sorted(data)], data)


def _platform(os_: str, arch: str, accelerator: str | None = None) -> dict[str, object]:
    declared = {"Os": os_, "Arch": arch} | ({"Accelerator": accelerator} if accelerator else {})
    return {"TargetPlatform": declared}


def _build_for(src: Path, out: Path, target: str) -> Package:
    with src.open("rb") as stream:
        return build_package(
            stream, MANIFEST, "classification", out, source=str(src), target=target
        )


def test_a_jetson_model_packaged_for_x86_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    src = _neo(tmp_path / "jx.tar.gz", {"TargetDevice": "jetson_xavier"})
    out = tmp_path / "out"
    with pytest.raises(ArchiveError) as err:
        _build_for(src, out, "x86_64-cpu")
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{src}: compiled.meta says")
    assert "TargetDevice 'jetson_xavier', not for target x86_64-cpu" in message
    assert list(out.iterdir()) == []


@pytest.mark.parametrize(
    ("requirements", "target"),
    [
        ({"TargetDevice": "ml_c5"}, "jetson-xavier"),
        ({"TargetDevice": "ML_C5"}, "x86_64-cuda"),
        ({"TargetDevice": "jetson_nano"}, "jetson-xavier"),
        ({"TargetDevice": "ml_g4dn"}, "x86_64-cpu"),
        ({"TargetDevice": "rasp3b"}, "arm64-cpu"),
        ({"TargetPlatform": {"Os": "LINUX", "Arch": "X86_64"}}, "arm64-cpu"),
        (_platform("LINUX", "ARM64", "NVIDIA"), "arm64-cpu"),
        ({"TargetPlatform": {"Os": "LINUX", "Arch": "ARM64"}}, "jetson-xavier"),
        ({"TargetPlatform": {"Os": "ANDROID", "Arch": "ARM64"}}, "arm64-cpu"),
    ],
)  # fmt: skip
def test_a_known_other_device_or_platform_is_refused(
    tmp_path: Path, requirements: dict[str, object], target: str
) -> None:
    src = _neo(tmp_path / "m.tar.gz", requirements)
    with pytest.raises(ArchiveError, match=f"not for target {target}"):
        _build_for(src, tmp_path / "out", target)
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize(
    ("requirements", "target"),
    [
        ({"TargetDevice": "jetson_xavier"}, "jetson-xavier"),
        ({"TargetDevice": "ml_c5"}, "x86_64-cpu"),
        ({"TargetDevice": "ml_p3"}, "x86_64-cuda"),
        ({"TargetDevice": "rasp4b"}, "arm64-cpu"),
        (_platform("LINUX", "ARM64", "NVIDIA"), "jetson-xavier"),
        ({"TargetPlatform": {"Os": "linux", "Arch": "x86_64"}}, "x86_64-cpu"),
        (_platform("LINUX", "X86_64", "NVIDIA"), "x86_64-cuda"),
        ({"TargetDevice": "jetson_orin_2031"}, "x86_64-cpu"),  # newer than the table: accepted
        ({"TargetPlatform": {"Os": "LINUX", "Arch": "RISCV64"}}, "arm64-cpu"),
        ({}, "jetson-xavier"),
        (None, "jetson-xavier"),  # no compiled.meta at all
    ],
)  # fmt: skip
def test_a_matching_unknown_or_missing_declaration_is_accepted(
    tmp_path: Path, requirements: dict[str, object] | None, target: str
) -> None:
    src = _neo(tmp_path / "m.tar.gz", requirements)
    package = _build_for(src, tmp_path / "out", target)
    assert package.path.exists()
    names = zipfile.ZipFile(package.path).namelist()
    assert ("classification/compiled.meta" in names) == (requirements is not None)


def test_the_same_archive_packages_the_same_with_or_without_a_target(tmp_path: Path) -> None:
    src = samples.write_compiled_model(tmp_path / "jx.tar.gz", target="jetson-xavier")
    checked = _build_for(src, tmp_path / "a", "jetson-xavier")
    unchecked = _build(src, tmp_path / "b")
    assert checked.sha256 == unchecked.sha256
    with pytest.raises(ArchiveError, match="'jetson_xavier'"):
        _build_for(src, tmp_path / "c", "x86_64-cpu")


def test_an_unreadable_or_oversized_meta_is_not_a_known_mismatch(tmp_path: Path) -> None:
    big = json.dumps({"Requirements": {"TargetDevice": "jetson_xavier"}, "pad": "x" * 70_000})
    for name, meta in (("bad", b"{not json"), ("big", big.encode())):
        data = {"compiled.meta": meta, "libdlr.so": b"\x7fELF"}
        src = _tar(tmp_path / f"{name}.tar.gz", [_file(n) for n in sorted(data)], data)
        assert _build_for(src, tmp_path / name, "x86_64-cpu").path.exists()
