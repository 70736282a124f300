"""Fixtures: one local endpoint per test session, and the ``dda`` provider plugin, the one host
of the lifecycle, started as the engine starts it.

The session's ``provider`` deletes released artifacts in the same operation (grace period 0,
see :mod:`pulumi_dda.artifacts`), so a test can check that a destroy leaves nothing; tests of
the grace period itself get providers with another one from ``provider_with_grace``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from plugin_harness import PluginProviderProcess, start_plugin
from provider_process import ARTIFACT_BUCKET, MODELS_BUCKET, OWNER, REGION

from pulumi_dda import samples
from pulumi_dda.artifacts import GRACE_ENV
from pulumi_dda.local import LocalEndpoint
from pulumi_dda.local.local_server import seed_local_servers
from pulumi_dda.model_component import DdaModelComponentProvider


@pytest.fixture(scope="session")
def endpoint() -> Iterator[LocalEndpoint]:
    with LocalEndpoint(region=REGION, state_delay=0.05) as ep:
        yield ep


PROVIDER_KINDS = {"plugin": start_plugin}
"""The plugin is the one host of the lifecycle (Python programs use it too)."""
Provider = PluginProviderProcess


@pytest.fixture(scope="session")
def provider_with_grace(
    endpoint: LocalEndpoint, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str, str], Provider]]:
    """``(kind, grace)`` → a provider of that kind whose artifact grace period is ``grace``
    seconds (``""``: the default), started once per session."""
    started: dict[tuple[str, str], Provider] = {}

    def get(kind: str, grace: str) -> Provider:
        if (kind, grace) not in started:
            log = tmp_path_factory.mktemp(f"provider-{kind}") / "stderr.log"
            start = PROVIDER_KINDS[kind]
            env = {GRACE_ENV: grace}
            started[(kind, grace)] = start(DdaModelComponentProvider(), endpoint.url, log, env)
        return started[(kind, grace)]

    yield get
    for process in started.values():
        process.stop()


@pytest.fixture(scope="session", params=sorted(PROVIDER_KINDS))
def provider(
    request: pytest.FixtureRequest, provider_with_grace: Callable[[str, str], Provider]
) -> Provider:
    return provider_with_grace(request.param, "0")


@pytest.fixture
def ep(endpoint: LocalEndpoint) -> LocalEndpoint:
    endpoint.reset()
    return endpoint


@pytest.fixture
def s3(ep: LocalEndpoint) -> Any:
    return ep.client("s3")


@pytest.fixture
def gg(ep: LocalEndpoint) -> Any:
    return ep.client("greengrassv2")


@pytest.fixture
def upload(s3: Any, tmp_path: Path) -> Callable[[str, Path], str]:
    def put(key: str, path: Path) -> str:
        s3.upload_file(str(path), MODELS_BUCKET, key)
        return f"s3://{MODELS_BUCKET}/{key}"

    return put


@pytest.fixture
def news(s3: Any, gg: Any, tmp_path: Path, upload: Callable[[str, Path], str]) -> dict[str, Any]:
    """Inputs of a two-target model component whose archives are in the local S3 (and the
    LocalServer components its recipes depend on in the local Greengrass)."""
    seed_local_servers(gg)
    s3.create_bucket(Bucket=MODELS_BUCKET)
    s3.create_bucket(Bucket=ARTIFACT_BUCKET)
    trained = samples.write_trained_model(tmp_path / "trained.tar.gz")
    x86 = samples.write_compiled_model(tmp_path / "x86.tar.gz", seed=1)
    arm = samples.write_compiled_model(tmp_path / "arm.tar.gz", seed=2, target="jetson-xavier")
    return {
        "component_name": "model-defects",
        "component_version": "1.0.0",
        "trained_model_uri": upload("train/model.tar.gz", trained),
        "compiled_models": {
            "x86_64-cpu": upload("neo/x86/model.tar.gz", x86),
            "jetson-xavier": upload("neo/jx/model.tar.gz", arm),
        },
        "artifact_bucket": ARTIFACT_BUCKET,
        "artifact_prefix": "",
        "friendly_name": "Defects",
        "target_suffix": True,
        "tags": {"team": "vision"},
        "role_arn": "",
        "region": "",
        "relax_device_checks": False,
        "wait_timeout_seconds": 30,
        "owner": OWNER,
        "components": None,
        "model_name": None,
    }
