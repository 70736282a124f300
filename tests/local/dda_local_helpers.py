"""Constants and helpers shared by the local endpoint tests (a unique module name, so
that it cannot collide with helpers of other test folders on ``sys.path``)."""

from __future__ import annotations

import time
from typing import Any

from botocore.config import Config

REGION = "us-east-1"
ACCOUNT = "123456789012"
BUCKET = "dda-artifacts"
#: ``max_attempts`` counts retries in botocore's client config; ``total_max_attempts`` all.
NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})
STATE_DELAY = 0.05


def recipe(
    name: str = "com.example.Model",
    version: str = "1.0.0",
    artifacts: list[str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A minimal valid recipe; artifacts are S3 URIs."""
    return {
        "RecipeFormatVersion": "2020-01-25",
        "ComponentName": name,
        "ComponentVersion": version,
        "ComponentDescription": "A test component",
        "ComponentPublisher": "pulumi-dda tests",
        "Manifests": [
            {
                "Platform": {"os": "linux"},
                "Artifacts": [{"Uri": uri} for uri in artifacts or []],
            }
        ],
        **extra,
    }


def wait_state(gg: Any, arn: str, wanted: str, timeout: float = 5.0) -> dict[str, Any]:
    """Poll DescribeComponent until ``wanted`` (or fail with the last state seen)."""
    deadline = time.monotonic() + timeout
    while True:
        described: dict[str, Any] = gg.describe_component(arn=arn)
        if described["status"]["componentState"] == wanted:
            return described
        if time.monotonic() > deadline:
            raise AssertionError(f"{arn} stayed {described['status']}")
        time.sleep(STATE_DELAY / 2)
