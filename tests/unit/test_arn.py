"""ARNs are built and read in one place (:mod:`pulumi_dda.arn`), in every partition."""

from __future__ import annotations

import pytest

from pulumi_dda import arn


@pytest.mark.parametrize(
    ("region", "prefix"),
    [
        ("eu-west-1", "arn:aws:"),
        ("cn-north-1", "arn:aws-cn:"),
        ("us-gov-west-1", "arn:aws-us-gov:"),
    ],
)
def test_component_versions_are_named_in_the_regions_partition(region: str, prefix: str) -> None:
    built = arn.component_version(region, "123456789012", "model-x-x86-64-cpu", "2.0.0")
    assert (
        built
        == f"{prefix}greengrass:{region}:123456789012:components:model-x-x86-64-cpu:versions:2.0.0"
    )
    assert arn.component_of(built) == arn.component(region, "123456789012", "model-x-x86-64-cpu")
    assert arn.name_and_version(built) == ("model-x-x86-64-cpu", "2.0.0")
    parsed = arn.Arn.parse(built)
    assert parsed is not None
    assert str(parsed) == built


def test_roles_and_iot_targets_are_recognised_in_any_partition() -> None:
    assert arn.is_role("arn:aws-cn:iam::123456789012:role/path/dda")
    assert not arn.is_role("arn:aws:iam::123456789012:user/dda")
    assert not arn.is_role("arn:aws:iam::12345:role/dda")
    target = arn.iot_target("arn:aws-us-gov:iot:us-gov-west-1:123456789012:thinggroup/line-7")
    assert target is not None
    assert (target.kind, target.name, target.region) == ("thinggroup", "line-7", "us-gov-west-1")
    assert arn.iot_target("arn:aws:iot:eu-west-1:123456789012:policy/p") is None
    assert arn.iot_target(42) is None
