"""The stack program's runs under the mocks, shared by the wiring and policy tests."""

from __future__ import annotations

import pytest
from stack_harness import DEV_CONFIG_AS_PROD, StackRun, run_stack


@pytest.fixture(scope="session")
def runs() -> dict[str, StackRun]:
    """The repository's stacks as they are, and dev's config under the stack name prod."""
    runs = {stack: run_stack(stack) for stack in ("dev", "prod", "local")}
    runs[DEV_CONFIG_AS_PROD] = run_stack("prod", config_of="dev")
    return runs
