"""``pulumi-dda build`` starts without the AWS SDK: boto3 and botocore are imported only where
an AWS API is called (most of a second of start-up on the project machine)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pulumi_dda import samples

AWS_MODULES = ("boto3", "botocore", "s3transfer")


def _imported_after(code: str) -> list[str]:
    probe = code + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    modules = json.loads(out.stdout.strip().splitlines()[-1])
    return [m for m in modules if m.split(".")[0] in AWS_MODULES]


def test_parsing_builds_arguments_imports_no_aws_sdk() -> None:
    code = (
        "import pulumi_dda.cli as cli\n"
        "cli._parser().parse_args(['build', '--trained', 't.tar.gz', '--compiled', 'x86_64-cpu=c',"
        " '--component-name', 'model-a', '--component-version', '1.0.0', '--bucket', 'edge',"
        " '--out', 'o'])"
    )
    assert _imported_after(code) == []


def test_a_build_from_local_files_imports_no_aws_sdk_and_a_publish_does(tmp_path: Path) -> None:
    trained = samples.write_trained_model(tmp_path / "t.tar.gz")
    compiled = samples.write_compiled_model(tmp_path / "c.tar.gz", seed=1, target="x86_64-cpu")
    build = [
        "build", "--trained", str(trained), "--compiled", f"x86_64-cpu={compiled}",
        "--component-name", "model-a", "--component-version", "1.0.0", "--bucket", "edge",
        "--out", str(tmp_path / "out"), "--quiet",
    ]  # fmt: skip
    code = (
        "import contextlib, io, pulumi_dda.cli as cli\n"
        f"with contextlib.redirect_stdout(io.StringIO()):\n    assert cli.main({build!r}) == 0"
    )
    assert _imported_after(code) == []
    assert list((tmp_path / "out" / "x86_64-cpu").glob("*.zip"))
    # the probe can see the SDK: the same process imports it for an S3 source
    s3 = code.replace(str(compiled), "s3://no-such-bucket/c.tar.gz").replace("== 0", "== 1")
    assert "boto3" in _imported_after(
        "import os\nos.environ.update(AWS_ENDPOINT_URL='http://127.0.0.1:9', AWS_ACCESS_KEY_ID='x',"
        " AWS_SECRET_ACCESS_KEY='x', AWS_DEFAULT_REGION='us-east-1', AWS_MAX_ATTEMPTS='1')\n" + s3
    )
