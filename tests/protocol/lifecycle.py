"""What the provider lifecycle tests share: a create from scratch, and what is left in the
local endpoint (component versions, artifact objects)."""

from __future__ import annotations

from typing import Any

from provider_process import ARTIFACT_BUCKET


def up(provider: Any, news: dict[str, Any], olds: dict[str, Any] | None = None) -> Any:
    """Check (from ``olds``, none by default) and create: ``(id, checked inputs, outputs)``."""
    inputs, failures = provider.check(olds or {}, news)
    assert failures == []
    id_, outs = provider.create(inputs)
    return id_, inputs, outs


def published_versions(gg: Any) -> list[str]:
    """Every ``<component>@<version>`` of the model components in the endpoint."""
    return sorted(
        f"{c['componentName']}@{v['componentVersion']}"
        for c in gg.list_components(scope="PRIVATE")["components"]
        if c["componentName"].startswith("model-")
        for v in gg.list_component_versions(arn=c["arn"])["componentVersions"]
    )


def artifact_keys(s3: Any) -> list[str]:
    """The keys in the artifact bucket."""
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=ARTIFACT_BUCKET).get("Contents", []))
