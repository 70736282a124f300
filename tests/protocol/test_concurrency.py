"""Two stacks at once: one takes a shared version over while the other releases it.

Dev created the version; prod's create adopts it while dev's delete releases it, in parallel
through the same provider server (the engine runs hooks on a thread pool), with latency
injected into the endpoint's calls to open the race windows in different places. The
providers have the default artifact grace period. While they race, a watcher checks over and
over that every DEPLOYABLE model version's artifact is in S3; whatever the interleaving, prod
must end with every version DEPLOYABLE and its artifact in place, and prod's own delete must
then leave no version and only artifacts tagged released (deleted after the grace period).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from artifact_watch import ArtifactWatcher
from plugin_harness import PluginProviderProcess
from provider_process import ARTIFACT_BUCKET

from pulumi_dda.artifacts import RELEASED_TAG
from pulumi_dda.local import LocalEndpoint

Provider = Any

# (service, operation to slow down, seconds, how many calls)
RACES = [
    ("greengrassv2", "DeleteComponent", 0.6, 2),  # dev decided to delete; prod tags meanwhile
    ("greengrassv2", "TagResource", 0.5, 4),  # prod's holder tag (and dev's mark) arrive late
    ("greengrassv2", "ListTagsForResource", 0.15, 8),  # every look at the holders is slow
    ("greengrassv2", "UntagResource", 0.4, 2),  # dev's release of its own tag is slow
    ("greengrassv2", "DescribeComponent", 0.3, 4),  # prod's look-up and wait are slow
    ("greengrassv2", "ListComponents", 0.5, 2),  # dev's look at the artifacts' users is slow
    ("s3", "PutObjectTagging", 0.5, 4),  # dev's release tag lands after prod took it off
    ("", "", 0.0, 0),  # no injected latency
]


@pytest.fixture(params=["plugin"])
def patient(request: pytest.FixtureRequest, provider_with_grace: Callable[..., Provider]) -> Any:
    """A provider with the default grace period."""
    return provider_with_grace(request.param, "")


def _published(gg: Any) -> list[str]:
    return sorted(
        c["componentName"]
        for c in gg.list_components(scope="PRIVATE")["components"]
        if c["componentName"].startswith("model-")
    )


@pytest.mark.parametrize(("service", "operation", "delay", "count"), RACES)
@pytest.mark.parametrize("round_", range(2))
def test_adopt_and_release_at_the_same_moment_lose_nothing(
    patient: Provider,
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
    provider = patient
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
    with ArtifactWatcher(gg, s3) as watcher:
        first.start()
        second.start()
        adopt.join()
        release.join()
    watcher.check()

    for component in adopted["outs"]["components"].values():
        state = gg.describe_component(arn=component["arn"])["status"]["componentState"]
        assert state == "DEPLOYABLE"
        key = component["artifact_uri"].split("/", 3)[3]
        assert s3.head_object(Bucket=ARTIFACT_BUCKET, Key=key)["ContentLength"] > 0
    ep.clear_faults()
    provider.delete(adopted["id"], adopted["outs"])
    assert _published(gg) == []
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=ARTIFACT_BUCKET).get("Contents", [])]
    assert len(keys) == 2  # nothing is deleted within the grace period ...
    for key in keys:  # ... and each is tagged for a later create or destroy to delete
        tags = s3.get_object_tagging(Bucket=ARTIFACT_BUCKET, Key=key)["TagSet"]
        assert RELEASED_TAG in {t["Key"] for t in tags}


def test_two_stacks_releasing_one_version_at_once_leave_nothing(
    provider: PluginProviderProcess, ep: LocalEndpoint, news: dict[str, Any], gg: Any
) -> None:
    """Dev made the versions, prod took them over; both stacks are destroyed at once. Prod's
    first untag is slow, so dev's whole delete runs in between: dev sees prod hold the version
    and keeps it; prod, deciding from its read before the untag, saw dev hold it and kept it
    too, and neither's sweep looked at it again (dev's ran too early, prod's skips a version
    dev made)."""
    ids = []
    for owner in ("pulumi-dda/dev/model", "pulumi-dda/prod/model"):
        inputs, failures = provider.check({}, {**news, "owner": owner})
        assert failures == []
        ids.append(provider.create(inputs))
    (dev_id, dev), (prod_id, prod) = ids
    ep.inject_fault("UntagResource", "", 1, delay=3.0, service="greengrassv2")
    release = threading.Thread(target=provider.delete, args=(prod_id, prod))
    release.start()
    deadline = time.monotonic() + 30
    while ep.faults():  # prod's untag has arrived and waits
        assert time.monotonic() < deadline, "prod's delete never untagged"
        time.sleep(0.01)
    provider.delete(dev_id, dev)
    release.join()
    assert _published(gg) == []
