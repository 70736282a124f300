"""``pulumi-dda local`` as a separate process: ready line, port 0, admin client, shutdown."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from dda_local_helpers import NO_RETRIES, recipe

from pulumi_dda.local import READY_PREFIX, AdminClient, LocalEndpoint, cli_main


def read_line(process: subprocess.Popen[str], timeout: float) -> str:
    """First stdout line, or fail after ``timeout`` instead of hanging the suite."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()))  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout)
    if not lines:
        raise AssertionError("no ready line from pulumi-dda local")
    return lines[0].strip()


def _greengrass(url: str) -> Any:
    """A Greengrass client of the endpoint at ``url`` that does not retry."""
    return boto3.client(
        "greengrassv2",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=NO_RETRIES,
    )


def test_cli_starts_on_free_port_prints_url_and_serves() -> None:
    process = subprocess.Popen(
        [
            sys.executable, "-m", "pulumi_dda.local", "--port", "0", "--state-delay", "0",
            "--connection-bandwidth", "5e8",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        line = read_line(process, timeout=60)
        assert line.startswith(READY_PREFIX)
        url = line[len(READY_PREFIX) :]
        assert url.startswith("http://127.0.0.1:")
        admin = AdminClient(url)
        admin.wait_ready()
        gg = _greengrass(url)
        admin.inject_fault("ListComponents", "InternalServerException")
        with pytest.raises(ClientError):
            gg.list_components()
        assert gg.list_components()["components"] == []
        assert [r.status for r in admin.request_log()] == [500, 200]
        assert admin.configure()["connection_bandwidth"] == 5e8
    finally:
        process.terminate()
        assert process.wait(timeout=20) == 0


def test_cli_strict_flag_refuses_recreating_deleted_versions_even_after_reset() -> None:
    process = subprocess.Popen(
        [
            sys.executable, "-m", "pulumi_dda.local", "--port", "0", "--state-delay", "0",
            "--no-allow-recreate-deleted-versions",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        url = read_line(process, timeout=60)[len(READY_PREFIX) :]
        admin = AdminClient(url)
        admin.wait_ready()
        admin.reset()
        assert admin.configure()["allow_recreate_deleted_versions"] is False
        gg = _greengrass(url)
        blob = json.dumps(recipe()).encode()
        arn = gg.create_component_version(inlineRecipe=blob)["arn"]
        gg.delete_component(arn=arn)
        with pytest.raises(ClientError) as info:
            gg.create_component_version(inlineRecipe=blob)
        assert info.value.response["Error"]["Code"] == "ConflictException"
    finally:
        process.terminate()
        assert process.wait(timeout=20) == 0


def test_cli_reports_a_port_in_use() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert cli_main(["--port", str(port)]) == 1


def _local(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pulumi_dda.local", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("host", ["0.0.0.0", "::", ""])
def test_a_non_loopback_host_is_refused_in_one_line_without_allow_remote(host: str) -> None:
    """The admin API resets state and injects faults for anyone: never exposed by accident."""
    process = _local("--host", host)
    try:
        _out, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:  # it serves on that address
        process.kill()
        process.communicate()
        raise
    assert process.returncode == 2
    assert err.count("\n") == 1
    assert err.startswith(f"pulumi-dda local: host {host!r} is not a loopback address")
    assert "/_dda_local/" in err
    assert "--allow-remote" in err


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "192.0.2.1"])
def test_the_python_api_refuses_a_non_loopback_host_too(host: str) -> None:
    with pytest.raises(ValueError, match="is not a loopback address"):
        LocalEndpoint(host=host, port=0)


def test_allow_remote_serves_and_warns_in_one_line_what_it_exposes() -> None:
    process = _local("--host", "0.0.0.0", "--allow-remote", "--state-delay", "0")
    try:
        url = read_line(process, timeout=60)[len(READY_PREFIX) :]
        AdminClient(url).wait_ready()
    finally:
        process.terminate()
        _out, err = process.communicate(timeout=20)
    assert process.returncode == 0
    assert err.count("\n") == 1
    assert err.startswith("pulumi-dda local: warning: listening on '0.0.0.0', not a loopback")
    assert "reset all its state, inject faults" in err
    assert "no authentication" in err


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_loopback_hosts_need_no_flag_and_warn_nothing(
    host: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with LocalEndpoint(host=host, port=0) as ep:
        AdminClient(ep.url).wait_ready()
    assert capsys.readouterr().err == ""
