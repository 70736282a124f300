"""SageMaker source names: the forms, what they refuse, identities that record a resolution,
and the pinned form promote writes (no AWS calls)."""

from __future__ import annotations

import pytest

from pulumi_dda.errors import InputError
from pulumi_dda.promote import PromotionRefused, pin_uri
from pulumi_dda.sagemaker import SageMakerName, parse_name, shown_name
from pulumi_dda.sources import Identity, ResolvedS3, recorded_source

ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/defects/3"
GROUP_ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/defects"


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("sagemaker://training-job/t-1", SageMakerName("training-job", "t-1")),
        (
            "sagemaker://compilation-job/c1?versionId=a%2Bb",
            SageMakerName("compilation-job", "c1", version_id="a+b"),
        ),
        ("sagemaker://model-package/defects/3", SageMakerName("model-package", "defects/3")),
        (
            "sagemaker://model-package/defects:latest-approved",
            SageMakerName("model-package", "defects", True),
        ),
        (f"sagemaker://model-package/{ARN}", SageMakerName("model-package", ARN)),
        (
            f"sagemaker://model-package/{GROUP_ARN}:latest-approved",
            SageMakerName("model-package", GROUP_ARN, True),
        ),
    ],
)
def test_forms(uri: str, expected: SageMakerName) -> None:
    assert parse_name(uri) == expected


@pytest.mark.parametrize(
    "uri",
    [
        "sagemaker://endpoint/x",
        "sagemaker://training-job/",
        "sagemaker://training-job/bad_name",
        "sagemaker://training-job/t:latest-approved",
        "sagemaker://model-package/defects",  # neither a version nor latest-approved
        "sagemaker://model-package/defects/0",
        "sagemaker://model-package/defects:latest-approved?versionId=1",
        f"sagemaker://model-package/{ARN}:latest-approved",
        "sagemaker://training-job/t?other=1",
    ],
)
def test_refused_forms(uri: str) -> None:
    with pytest.raises(InputError):
        parse_name(uri)


def test_identity_records_the_resolution_and_round_trips() -> None:
    source = ResolvedS3(
        "sagemaker://model-package/defects:latest-approved", "ml", "a;b/model.tar.gz", "e1", "v1",
        via=f"model-package/{ARN}",
    )  # fmt: skip
    identity = Identity.parse(source.identity)
    assert (identity.content, identity.version_id, identity.at) == (
        "etag:e1", "v1", "s3://ml/a;b/model.tar.gz",
    )  # fmt: skip
    assert identity.resolved() == "model package defects/3 → s3://ml/a;b/model.tar.gz"
    assert recorded_source(source.uri, source.identity) == source
    with pytest.raises(Exception, match="not one of this source"):
        recorded_source("sagemaker://training-job/t", source.identity)


def test_pin_uri_writes_the_pinned_name_with_the_object_version() -> None:
    identity = f"etag:e1;version:v+1;via:model-package/{ARN};at:s3://ml/k.tar.gz"
    assert pin_uri("sagemaker://model-package/defects:latest-approved", identity) == (
        f"sagemaker://model-package/{ARN}?versionId=v%2B1"
    )
    job = "etag:e1;version:v1;via:training-job/t;at:s3://ml/k.tar.gz"
    assert pin_uri("sagemaker://training-job/t", job) == "sagemaker://training-job/t?versionId=v1"
    with pytest.raises(PromotionRefused, match="enable versioning on bucket ml"):
        pin_uri("sagemaker://training-job/t", "etag:e1;via:training-job/t;at:s3://ml/k.tar.gz")
    assert shown_name("training-job/t") == "training job t"
