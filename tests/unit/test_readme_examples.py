"""The README's first Python example runs as written: every S3 bucket it names is one S3
accepts (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html)."""

from __future__ import annotations

import ast
import ipaddress
import re
from pathlib import Path

import pytest

from pulumi_dda.build import validate_bucket
from pulumi_dda.sources import parse_s3_source

README = Path(__file__).resolve().parents[2] / "README.md"


def bucket_name_problem(name: str) -> str | None:
    """Why S3 refuses ``name`` as a general purpose bucket's name, or None."""
    if not 3 <= len(name) <= 63:
        return f"{len(name)} characters, not 3 to 63"
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]*[a-z0-9]", name):
        return "not lowercase letters, digits, '.' and '-', beginning and ending alphanumeric"
    if ".." in name:
        return "two adjacent periods"
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        pass
    else:
        return "formatted as an IP address"
    for prefix in ("xn--", "sthree-", "amzn-s3-demo-"):
        if name.startswith(prefix):
            return f"the reserved prefix {prefix}"
    for suffix in ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"):
        if name.endswith(suffix):
            return f"the reserved suffix {suffix}"
    return None


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("ml-models", True),
        ("edge-artifacts", True),
        ("a.b-c", True),
        ("ml", False),
        ("x" * 64, False),
        ("ML-models", False),
        ("ml_models", False),
        ("-ml", False),
        ("a..b", False),
        ("192.168.5.4", False),
        ("xn--ml", False),
        ("models-s3alias", False),
    ],
)
def test_bucket_name_rules(name: str, valid: bool) -> None:
    assert (bucket_name_problem(name) is None) is valid


def _first_python_example() -> str:
    match = re.search(r"^```python\n(.*?)^```", README.read_text(), re.MULTILINE | re.DOTALL)
    assert match is not None, "README.md has no python code block"
    return match[1]


def test_first_python_example_names_valid_buckets() -> None:
    tree = ast.parse(_first_python_example())  # it is Python as written
    strings = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]
    sources = [s for s in strings if s.startswith("s3://")]
    assert sources, "the first example names no s3:// source"
    buckets = {parse_s3_source(uri).bucket for uri in sources}
    (call,) = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "DdaModelComponent"
    ]
    keywords = {k.arg: k.value for k in call.keywords}
    artifact_bucket = keywords["artifact_bucket"]
    assert isinstance(artifact_bucket, ast.Constant)
    assert isinstance(artifact_bucket.value, str)
    validate_bucket(artifact_bucket.value, "")  # the resource's own check
    buckets.add(artifact_bucket.value)
    problems = {b: p for b in sorted(buckets) if (p := bucket_name_problem(b)) is not None}
    assert not problems, f"README's first example: invalid bucket names {problems}"
