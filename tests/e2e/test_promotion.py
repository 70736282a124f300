"""Stack-per-environment promotion: dev and prod stacks of one project.

Promotion is a pull request that copies dev's ``model`` config block into prod's stack file;
prod's preview then shows exactly that change. In one account prod adopts dev's identical
component versions; in another account or region it creates its own copy.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from e2e_harness import ARTIFACTS, MODELS, Events, model_components, set_config
from pulumi import automation as auto

from pulumi_dda import samples
from pulumi_dda.local import LocalEndpoint
from pulumi_dda.local.local_server import seed_local_servers

OTHER_ACCOUNT = "222222222222"
OTHER_REGION = "us-west-2"


def _state(gg: Any, arn: str) -> str:
    return str(gg.describe_component(arn=arn)["status"]["componentState"])


def test_dev_to_prod_in_one_account_adopts_and_survives_dev_destroy(
    new_stack: Callable[..., auto.Stack],
    model_config: dict[str, Any],
    gg: Any,
    s3: Any,
    tmp_path: Path,
) -> None:
    config = {"model": model_config, "artifactBucket": ARTIFACTS}
    dev = new_stack("dev", config)
    prod = new_stack("prod", config)
    dev.up()
    prod_up = prod.up()
    prod_components = prod_up.outputs["components"].value["model"]
    assert {c["adopted"] for c in prod_components.values()} == {True}

    # A new training run writes new archives; dev takes them with a version bump.
    new_x86 = samples.write_compiled_model(tmp_path / "x86-run2.tar.gz", seed=77)
    s3.upload_file(str(new_x86), MODELS, "neo/run2/x86/model.tar.gz")
    model_v2 = {
        **model_config,
        "componentVersion": "2.0.0",
        "compiledModels": {
            **model_config["compiledModels"],
            "x86_64-cpu": f"s3://{MODELS}/neo/run2/x86/model.tar.gz",
        },
    }
    set_config(dev, "model", model_v2)
    dev_v2 = dev.up().outputs["components"].value["model"]

    # The promotion PR: prod's preview shows exactly the promoted change.
    set_config(prod, "model", model_v2)
    events = Events()
    prod.preview(on_event=events)
    assert events.model_ops() == {"model": ["create-replacement", "replace", "delete-replaced"]}
    assert set(events.diffs["model"]) == {
        "compiled_models",
        "component_version",
        "plan",
        "versions",
    }
    prod_v2 = prod.up().outputs["components"].value["model"]
    assert {c["adopted"] for c in prod_v2.values()} == {True}
    assert {t: c["arn"] for t, c in prod_v2.items()} == {t: c["arn"] for t, c in dev_v2.items()}

    dev.destroy()
    for component in prod_v2.values():
        assert _state(gg, component["arn"]) == "DEPLOYABLE"
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=ARTIFACTS)["Contents"]}
    assert {c["artifact_uri"].split("/", 3)[3] for c in prod_v2.values()} <= keys
    prod.destroy()
    assert model_components(gg) == []
    assert s3.list_objects_v2(Bucket=ARTIFACTS).get("KeyCount", 0) == 0


def test_prod_in_another_account_and_region_makes_its_own_copy(
    new_stack: Callable[..., auto.Stack],
    model_config: dict[str, Any],
    ep: LocalEndpoint,
    gg: Any,
) -> None:
    role_arn = f"arn:aws:iam::{OTHER_ACCOUNT}:role/dda-deployer"
    creds = ep.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="setup")["Credentials"]
    other = {
        "aws_access_key_id": creds["AccessKeyId"],
        "aws_secret_access_key": creds["SecretAccessKey"],
        "aws_session_token": creds["SessionToken"],
        "region_name": OTHER_REGION,
    }
    seed_local_servers(ep.client("greengrassv2", **other))
    other_s3 = ep.client("s3", **other)
    other_s3.create_bucket(
        Bucket="edge-artifacts-prod",
        CreateBucketConfiguration={"LocationConstraint": OTHER_REGION},
    )
    dev = new_stack("dev", {"model": model_config, "artifactBucket": ARTIFACTS})
    prod = new_stack(
        "prod",
        {
            "model": model_config,
            "artifactBucket": "edge-artifacts-prod",
            "roleArn": role_arn,
            "aws:region": OTHER_REGION,
        },
    )
    dev_components = dev.up().outputs["components"].value["model"]
    prod_components = prod.up().outputs["components"].value["model"]
    for target, component in prod_components.items():
        assert component["adopted"] is False
        assert f":{OTHER_REGION}:{OTHER_ACCOUNT}:" in component["arn"]
        assert component["digest"] == dev_components[target]["digest"]
        assert component["artifact_uri"].startswith("s3://edge-artifacts-prod/")
    other_gg = ep.client("greengrassv2", **other)
    assert len(model_components(other_gg)) == 2
    prod.destroy()
    assert model_components(other_gg) == []
    assert len(model_components(gg)) == 2
    dev.destroy()
