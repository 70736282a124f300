"""Two stacks at once: one takes a shared version over while the other releases it.

Dev created the version; prod's create adopts it while dev's delete releases it, in parallel
through the same provider server (the engine runs hooks on a thread pool), with latency
injected into the endpoint's Greengrass calls to open the race windows in different places.
Whatever the interleaving, prod must end with every version DEPLOYABLE and its artifact in
place, and prod's own delete must then leave nothing.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from dynamic_harness import ARTIFACT_BUCKET, DynamicProviderProcess

from pulumi_dda.local import LocalEndpoint

# (service, operation to slow down, seconds, how many calls)
RACES = [
    ("greengrass", "DeleteComponent", 0.6, 2),  # dev decided to delete; prod tags meanwhile
    ("greengrass", "TagResource", 0.5, 4),  # prod's holder tag (and dev's mark) arrive late
    ("greengrass", "ListTagsForResource", 0.15, 8),  # every look at the holders is slow
    ("greengrass", "UntagResource", 0.4, 2),  # dev's release of its own tag is slow
    ("greengrass", "DescribeComponent", 0.3, 4),  # prod's look-up and wait are slow
    ("s3", "DeleteObject", 0.5, 2),  # dev's artifact delete lands after prod looked at it
    ("", "", 0.0, 0),  # no injected latency
]


def _published(gg: Any) -> list[str]:
    return sorted(
        c["componentName"]
        for c in gg.list_components(scope="PRIVATE")["components"]
        if c["componentName"].startswith("model-")
    )


@pytest.mark.parametrize(("service", "operation", "delay", "count"), RACES)
@pytest.mark.parametrize("round_", range(2))
def test_adopt_and_release_at_the_same_moment_lose_nothing(
    provider: DynamicProviderProcess,
    ep: LocalEndpoint,
    news: dict[str, Any],
    gg: Any,
    s3: Any,
    service: str,
    operation: str,
    delay: float,
    count: int,
    round_: int,
) -> None:
    dev_inputs, _ = provider.check({}, {**news, "owner": "pulumi-dda/dev/model"})
    dev_id, dev = provider.create(dev_inputs)
    prod_inputs, failures = provider.check({}, {**news, "owner": "pulumi-dda/prod/model"})
    assert failures == []
    if operation:
        ep.inject_fault(operation, "", count, delay=delay, service=service)
    adopted: dict[str, Any] = {}

    def adopt_in_prod() -> None:
        adopted["id"], adopted["outs"] = provider.create(prod_inputs)

    adopt = threading.Thread(target=adopt_in_prod)
    release = threading.Thread(target=lambda: provider.delete(dev_id, dev))
    first, second = (adopt, release) if round_ == 0 else (release, adopt)
    first.start()
    second.start()
    adopt.join()
    release.join()

    for component in adopted["outs"]["components"].values():
        state = gg.describe_component(arn=component["arn"])["status"]["componentState"]
        assert state == "DEPLOYABLE"
        key = component["artifact_uri"].split("/", 3)[3]
        assert s3.head_object(Bucket=ARTIFACT_BUCKET, Key=key)["ContentLength"] > 0
    ep.clear_faults()
    provider.delete(adopted["id"], adopted["outs"])
    assert _published(gg) == []
    assert s3.list_objects_v2(Bucket=ARTIFACT_BUCKET).get("KeyCount", 0) == 0
