"""The pieces without HTTP: paging, version order, model validation, recipe handling."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pulumi_dda.local.greengrass import recipes
from pulumi_dda.local.greengrass.exceptions import (
    ConflictException,
    ThrottlingException,
    ValidationException,
    error_for_code,
    render_error,
)
from pulumi_dda.local.greengrass.pagination import paginate
from pulumi_dda.local.greengrass.shapes import validate_input
from pulumi_dda.local.greengrass.tags import check_tags

# The autouse endpoint reset is harmless here; it just is not per-example.
relaxed = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@relaxed
@given(st.integers(0, 120), st.integers(1, 100))
def test_paging_returns_every_item_once_in_order(count: int, size: int) -> None:
    items = list(range(count))
    seen: list[int] = []
    token: str | None = None
    while True:
        page, token = paginate(items, size, token, "listing")
        assert len(page) <= size
        seen.extend(page)
        if token is None:
            break
    assert seen == items


def test_token_of_another_listing_is_refused() -> None:
    _, token = paginate(list(range(10)), 2, None, "a")
    assert token is not None
    with pytest.raises(ValidationException):
        paginate(list(range(10)), 2, token, "b")


def test_semantic_version_precedence() -> None:
    ordered = ["0.9.9", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta", "1.0.0", "1.2.0", "1.10.0"]
    assert sorted(reversed(ordered), key=recipes.semver_key) == ordered


def test_validation_lists_every_problem() -> None:
    with pytest.raises(ValidationException) as info:
        validate_input(
            "CreateDeployment",
            {"deploymentName": "", "components": {"x": {}}, "tags": {"k": "v" * 257}},
        )
    fields = [f["name"] for f in info.value.body()["fields"]]
    assert fields == [
        "targetArn",
        "deploymentName",
        "components.x.value.componentVersion",
        "tags.k.value",
    ]
    assert info.value.message.startswith("4 validation errors detected: Value null at 'targetArn'")


def test_error_rendering() -> None:
    status, headers, body = render_error(ThrottlingException("slow down"))
    assert status == 429
    assert ("X-Amzn-ErrorType", "ThrottlingException") in headers
    assert ("Retry-After", "1") in headers
    assert body == b'{"message": "slow down"}'
    err = error_for_code("ConflictException", "m", status=418)
    assert isinstance(err, ConflictException)
    assert render_error(err)[0] == 418
    custom = error_for_code("SomethingElse", "m")
    assert (custom.error_code, custom.http_status) == ("SomethingElse", 400)


def test_recipe_helpers() -> None:
    body = {
        "Manifests": [
            {
                "Platform": {"os": "linux", "architecture": "/amd64|x86/"},
                "Artifacts": [
                    {"Uri": "s3://b/k.zip"},
                    {"Uri": "docker:image"},
                    {"Uri": "s3://b/k.zip"},
                ],
            },
            {"Platform": {"os": "linux", "architecture": "/amd64|x86/"}},
        ]
    }
    assert recipes.s3_artifact_uris(body) == ["s3://b/k.zip"]
    assert recipes.platforms(body) == [
        {"attributes": {"os": "linux", "architecture": "/amd64|x86/"}}
    ]
    stored = recipes.stored_recipe(body, {"s3://b/k.zip": "D"})
    assert stored["Manifests"][0]["Artifacts"][0] == {
        "Algorithm": "SHA-256",
        "Digest": "D",
        "Permission": {"Execute": "NONE", "Read": "OWNER"},
        "Unarchive": "NONE",
        "Uri": "s3://b/k.zip",
    }
    assert stored["Manifests"][0]["Artifacts"][1]["Uri"] == "docker:image"
    assert "Digest" not in stored["Manifests"][0]["Artifacts"][1]
    assert body["Manifests"][0]["Artifacts"][0] == {"Uri": "s3://b/k.zip"}


@pytest.mark.parametrize(
    ("tags", "existing", "fragment"),
    [
        ({"": "v"}, None, "1 to 128"),
        ({"k" * 129: "v"}, None, "1 to 128"),
        ({"k": "v" * 257}, None, "at most 256"),
        ({"AWS:owner": "v"}, None, "reserved prefix"),
        ({"new": "v"}, {f"k{i}": "v" for i in range(50)}, "would give it 51"),
    ],
)
def test_tag_rules_hold_without_the_http_layer(
    tags: dict[str, str], existing: dict[str, str] | None, fragment: str
) -> None:
    with pytest.raises(ValidationException, match=fragment):
        check_tags(tags, existing)
