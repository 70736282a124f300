"""``pulumi-dda rollback``'s choice of model and its pinning, on the local endpoint's S3."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from pulumi_dda.aws import AwsClients
from pulumi_dda.rollback import RollbackRefused, pinned_at, previous_good

BLOCK_A = {"trainedModelUri": "s3://m/train.tgz", "compiledModels": {"x86_64-cpu": "s3://m/a"}}
BLOCK_B = {"trainedModelUri": "s3://m/train.tgz", "compiledModels": {"x86_64-cpu": "s3://m/b"}}


def _update(result: str, block: dict[str, Any] | None, start: str) -> dict[str, Any]:
    config = {"pulumi-dda:model": {"objectValue": block}} if block else {}
    return {"kind": "update", "result": result, "startTime": start, "config": config}


def _pin(block: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    """Stands for pinning: what the sources named when the update started."""
    return {**block, "at": entry["startTime"]} if block is BLOCK_B else dict(block)


def test_after_a_failed_update_the_model_still_running_is_chosen() -> None:
    history = [
        _update("failed", BLOCK_B, "t3"),
        _update("succeeded", BLOCK_A, "t2"),
        _update("succeeded", BLOCK_B, "t1"),
    ]
    entry, block, failed = previous_good("prod", history, lambda b, e: dict(b))
    assert (entry["startTime"], block, failed) == ("t2", BLOCK_A, True)


def test_after_a_successful_update_the_newest_other_model_is_chosen() -> None:
    history = [
        _update("succeeded", BLOCK_A, "t4"),
        _update("succeeded", BLOCK_A, "t3"),  # a tags-only update: the same model
        {"kind": "refresh", "result": "succeeded", "startTime": "t2"},
        _update("succeeded", BLOCK_B, "t1"),
    ]
    entry, block, failed = previous_good("prod", history, lambda b, e: dict(b))
    assert (entry["startTime"], block, failed) == ("t1", BLOCK_B, False)
    # The same URIs pinned at different times are different models (an overwritten key).
    same_uris = [_update("succeeded", BLOCK_B, "t2"), _update("succeeded", BLOCK_B, "t1")]
    entry, block, _ = previous_good("prod", same_uris, _pin)
    assert block["at"] == "t1"


@pytest.mark.parametrize(
    ("history", "says"),
    [
        ([_update("failed", BLOCK_A, "t1")], "no successful update with a model"),
        ([_update("succeeded", BLOCK_A, "t1")], "nothing to roll back to"),
    ],
)
def test_a_history_without_a_model_to_go_back_to_is_refused(
    history: list[dict[str, Any]], says: str
) -> None:
    with pytest.raises(RollbackRefused, match=says):
        previous_good("prod", history, lambda b, e: dict(b))


def test_sources_are_pinned_to_the_object_version_of_then(clients: AwsClients) -> None:
    s3 = clients.s3
    before = datetime.now(UTC)
    time.sleep(1.1)
    s3.create_bucket(Bucket="versioned")
    s3.put_bucket_versioning(Bucket="versioned", VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket="versioned", Key="neo/model.tar.gz", Body=b"one")["VersionId"]
    time.sleep(1.1)  # S3 times have a resolution of a second
    then = datetime.now(UTC)
    time.sleep(1.1)
    s3.put_object(Bucket="versioned", Key="neo/model.tar.gz", Body=b"two")
    notes: list[str] = []
    uri = "s3://versioned/neo/model.tar.gz"
    assert pinned_at(uri, then, clients, notes) == f"{uri}?versionId={first}"
    assert pinned_at(f"{uri}?versionId=x", then, clients, notes) == f"{uri}?versionId=x"
    assert pinned_at("/local/model.tar.gz", then, clients, notes) == "/local/model.tar.gz"
    with pytest.raises(RollbackRefused, match="no object version existed"):
        pinned_at(uri, before, clients, notes)

    s3.create_bucket(Bucket="plain")
    s3.put_object(Bucket="plain", Key="k", Body=b"one")
    time.sleep(1.1)
    later = datetime.now(UTC)
    assert pinned_at("s3://plain/k", later, clients, notes) == "s3://plain/k"
    assert "unchanged since" in notes[-1]
    time.sleep(1.1)
    s3.put_object(Bucket="plain", Key="k", Body=b"two")
    with pytest.raises(RollbackRefused, match="enable versioning"):
        pinned_at("s3://plain/k", later, clients, notes)
