"""Fixtures for the end-to-end suite: the pinned Pulumi CLI, a local endpoint, sample models."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_harness import ARTIFACTS, MODELS, REGION, engine_root, make_project, make_stack
from pulumi import automation as auto

from pulumi_dda import samples
from pulumi_dda.local import LocalEndpoint


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.path):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def engine() -> Path:
    return engine_root()


@pytest.fixture
def ep() -> Iterator[LocalEndpoint]:
    with LocalEndpoint(region=REGION, state_delay=0.05) as endpoint:
        endpoint.reset()
        yield endpoint


@pytest.fixture
def env(ep: LocalEndpoint, tmp_path: Path, engine: Path) -> dict[str, str]:
    state = tmp_path / "state"
    state.mkdir()
    return {
        "PULUMI_BACKEND_URL": f"file://{state}",
        "PULUMI_CONFIG_PASSPHRASE": "e2e",
        "PULUMI_HOME": str(tmp_path / "pulumi-home"),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PATH": f"{engine / 'bin'}:{__import__('os').environ['PATH']}",
        "AWS_ENDPOINT_URL": ep.url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }


@pytest.fixture
def s3(ep: LocalEndpoint) -> Any:
    return ep.client("s3")


@pytest.fixture
def gg(ep: LocalEndpoint) -> Any:
    return ep.client("greengrassv2")


@pytest.fixture
def model_config(s3: Any, tmp_path: Path) -> dict[str, Any]:
    """Sample trained and compiled models uploaded to the local S3; the ``model`` config."""
    s3.create_bucket(Bucket=MODELS)
    s3.create_bucket(Bucket=ARTIFACTS)
    keys = {
        "train/model.tar.gz": samples.write_trained_model(tmp_path / "in" / "t.tar.gz"),
        "neo/x86/model.tar.gz": samples.write_compiled_model(tmp_path / "in" / "x.tar.gz", seed=1),
        "neo/jx/model.tar.gz": samples.write_compiled_model(tmp_path / "in" / "j.tar.gz", seed=2),
    }
    for key, path in keys.items():
        s3.upload_file(str(path), MODELS, key)
    return {
        "componentName": "model-defects",
        "componentVersion": "1.0.0",
        "friendlyName": "Defects",
        "trainedModelUri": f"s3://{MODELS}/train/model.tar.gz",
        "compiledModels": {
            "x86_64-cpu": f"s3://{MODELS}/neo/x86/model.tar.gz",
            "jetson-xavier": f"s3://{MODELS}/neo/jx/model.tar.gz",
        },
    }


@pytest.fixture
def new_stack(
    tmp_path: Path, env: dict[str, str], engine: Path
) -> Iterator[Callable[..., auto.Stack]]:
    project = make_project(tmp_path)
    stacks: list[auto.Stack] = []

    def create(
        name: str, config: dict[str, Any], extra_env: dict[str, str] | None = None
    ) -> auto.Stack:
        stack = make_stack(project, name, {**env, **(extra_env or {})}, engine, config)
        stacks.append(stack)
        return stack

    yield create
    for stack in stacks:
        stack.workspace.remove_stack(stack.name, force=True)
