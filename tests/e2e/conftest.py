"""Fixtures for the end-to-end suite: the pinned Pulumi CLI, a local endpoint, sample models."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_harness import REGION, cli_env, engine_root, make_project, make_stack, sample_model_config
from pulumi import automation as auto

from pulumi_dda.local import LocalEndpoint
from pulumi_dda.local.local_server import seed_local_servers


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
    return cli_env(ep.url, tmp_path / "state", engine)


@pytest.fixture
def s3(ep: LocalEndpoint) -> Any:
    return ep.client("s3")


@pytest.fixture
def gg(ep: LocalEndpoint) -> Any:
    return ep.client("greengrassv2")


@pytest.fixture
def model_config(s3: Any, gg: Any, tmp_path: Path) -> dict[str, Any]:
    """Sample trained and compiled models uploaded to the local S3; the ``model`` config."""
    seed_local_servers(gg)
    return sample_model_config(s3, tmp_path)


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
