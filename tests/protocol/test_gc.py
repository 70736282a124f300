"""``pulumi-dda gc`` on the local endpoint: what stacks, deployments and crashes leave behind.

Stacks are the ``dda`` plugin's model and deployment resources (owners ``pulumi-dda/<stack>/
...``); gc is the real CLI in a subprocess, its report read as printed. The matrix: two stacks
holding one version, a deployment's latest revision and its rollback targets
(``keep_revisions``), versions whose release crashed (holders gone, a stale deleting mark), a
create that crashed (pending holder), a version made outside pulumi-dda, and in the artifact
folder a package no version uses, one a version uses, a foreign object, a ``.deleting`` copy
and an unfinished multipart upload. Whatever is referenced stays; whatever is not goes. A dry
run writes nothing and says what ``--apply`` then does; an ``up`` taking a version over while
``gc --apply`` deletes it never ends with a version missing or its artifact gone.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from artifact_watch import ArtifactWatcher
from lifecycle import published_versions, up
from plugin_harness import PluginProviderProcess
from provider_process import ARTIFACT_BUCKET, MODELS_BUCKET, REGION, endpoint_env

from pulumi_dda import artifacts, samples
from pulumi_dda.artifacts import GRACE_ENV, RELEASED_TAG
from pulumi_dda.local import LocalEndpoint
from pulumi_dda.ownership import DELETING_TAG, PENDING_TAG_PREFIX, USER_TAG_PREFIX

pytest_plugins = ("deployment_fixtures",)

Provider = PluginProviderProcess
X86 = "model-defects-x86-64-cpu"
FOLDER = "model_artifacts/"
LINE = re.compile(
    r"^  (?P<what>\S+(?: \(unfinished upload [^)]*\))?): "
    r"(?P<verb>kept|would delete|deleted|would tag released|tagged released|would abort|aborted)"
    r"(?:: (?P<why>.*))?$"
)


class Printed(dict[str, tuple[str, str]]):
    """What gc printed: ``{version ARN or object URI: (verb, why)}``, and its last lines."""

    summary: list[str]


def gc(ep: LocalEndpoint, *args: str, grace: str = "0") -> Printed:
    """Run ``pulumi-dda gc`` and read what it printed."""
    env = {**os.environ, **endpoint_env(ep.url), GRACE_ENV: grace}
    done = subprocess.run(
        [sys.executable, "-m", "pulumi_dda.cli", "gc", "--region", REGION,
         "--bucket", ARTIFACT_BUCKET, *args],
        capture_output=True, text=True, env=env, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"pulumi-dda gc in {REGION}" + ("" if "--apply" in args else " (dry run)")
    found = Printed()
    for line in lines:
        if match := LINE.match(line):
            found[match["what"]] = (match["verb"], match["why"] or "")
    found.summary = [line for line in lines if not line.startswith(("  ", "pulumi-dda gc in"))]
    return found


def _model(
    news: dict[str, Any],
    tmp_path: Path,
    upload: Callable[[str, Path], str],
    seed: int,
    **extra: Any,
) -> dict[str, Any]:
    """Inputs of a one-target model whose compiled archive is seeded ``seed`` (its own package)."""
    compiled = tmp_path / f"x86-{seed}.tar.gz"
    uri = f"s3://{MODELS_BUCKET}/neo/x86-{seed}/model.tar.gz"
    if not compiled.exists():  # uploaded once: the same seed is the same content
        upload(f"neo/x86-{seed}/model.tar.gz", samples.write_compiled_model(compiled, seed=seed))
    return {**news, "compiled_models": {"x86_64-cpu": uri}, **extra}


def _deployment(target: str, version: str, keep: int) -> dict[str, Any]:
    return {
        "target_arn": target,
        "components": {X86: {"component_version": version}},
        "keep_revisions": keep,
        "owner": "pulumi-dda/ci/line-1",
        "region": "",
        "role_arn": "",
        "take_over": False,
        "tags": {},
    }


def _arn(gg: Any, version: str, name: str = X86) -> str:
    component = next(
        c["arn"] for c in gg.list_components(scope="PRIVATE")["components"]
        if c["componentName"] == name
    )  # fmt: skip
    return f"{component}:versions:{version}"


def _artifact(gg: Any, arn: str) -> str:
    recipe = json.loads(gg.get_component(arn=arn, recipeOutputFormat="JSON")["recipe"])
    return str(recipe["Manifests"][0]["Artifacts"][0]["Uri"])


def _objects(s3: Any) -> dict[str, dict[str, str]]:
    """Every object of the artifact bucket and its tags."""
    found = s3.list_objects_v2(Bucket=ARTIFACT_BUCKET).get("Contents", [])
    return {
        f"s3://{ARTIFACT_BUCKET}/{o['Key']}": {
            t["Key"]: t["Value"]
            for t in s3.get_object_tagging(Bucket=ARTIFACT_BUCKET, Key=o["Key"])["TagSet"]
        }
        for o in found
    }


def _uploads(s3: Any) -> list[str]:
    return [u["Key"] for u in s3.list_multipart_uploads(Bucket=ARTIFACT_BUCKET).get("Uploads", [])]


def _state(gg: Any, s3: Any) -> Any:
    """Everything gc could change: versions and their tags, objects and theirs, uploads."""
    versions = {}
    for component in gg.list_components(scope="PRIVATE")["components"]:
        for v in gg.list_component_versions(arn=component["arn"])["componentVersions"]:
            versions[v["arn"]] = gg.list_tags_for_resource(resourceArn=v["arn"])["tags"]
    return versions, _objects(s3), _uploads(s3)


class World:
    """The matrix of the module docstring, built once per test; names what each thing is."""

    def __init__(
        self,
        provider: Provider,
        deployment_provider: Provider,
        ep: LocalEndpoint,
        model: Callable[..., dict[str, Any]],
        groups: list[str],
    ) -> None:
        self.gg, self.s3 = ep.client("greengrassv2"), ep.client("s3")
        self.provider, self.model = provider, model
        self.kept: dict[str, str] = {}  # ARN or URI → a phrase its "kept" line names
        self.gone: set[str] = set()
        self._two_stacks()
        self._rollback_targets(deployment_provider, groups[0])
        # Made in this order because any create or delete of a model in a component releases
        # the versions of it that nothing holds or keeps (the resources clean up after
        # themselves): gc is for what no later operation in the component saw.
        destroyed = self._deployed(deployment_provider, groups[1])
        crashed = self._crashed_creates()
        destroyed()
        self._crash(crashed)
        self._folder()

    def _keep(self, arn: str, phrase: str) -> None:
        self.kept[arn] = phrase
        self.kept[_artifact(self.gg, arn)] = arn

    def _two_stacks(self) -> None:
        """Two stacks hold 1.0.0 (prod took dev's version over); a version made by hand in
        the same component."""
        for stack in ("dev", "prod"):
            up(self.provider, self.model(1, owner=f"pulumi-dda/{stack}/model"))
        shared = _arn(self.gg, "1.0.0")
        self._keep(shared, "held by stack dev")
        recipe = json.loads(self.gg.get_component(arn=shared, recipeOutputFormat="JSON")["recipe"])
        recipe["ComponentVersion"] = "9.0.0"
        made = self.gg.create_component_version(inlineRecipe=json.dumps(recipe).encode())
        self.kept[made["arn"]] = "not made by pulumi-dda"

    def _rollback_targets(self, deployment_provider: Provider, group: str) -> None:
        """A deployment keeping 2 revisions of 2.0.0, 3.0.0, 4.0.0; the ci stack that published
        them is destroyed: the latest (4.0.0) and the rollback target (3.0.0) stay, unheld;
        2.0.0 went with the destroy (its release found nothing keeping it)."""
        outs: dict[str, Any] = {}
        models = []
        for seed, version in ((2, "2.0.0"), (3, "3.0.0"), (4, "4.0.0")):
            model = self.model(seed, component_version=version, owner="pulumi-dda/ci/model")
            models.append(up(self.provider, model))
            wanted = _deployment(group, version, keep=2)
            if outs:
                checked, failures = deployment_provider.check(outs, wanted)
                assert failures == []
                outs = deployment_provider.update(group, outs, checked)
            else:
                _, _, outs = up(deployment_provider, wanted)
        for model_id, _, model_outs in reversed(models):
            self.provider.delete(model_id, model_outs)
        assert "model-defects-x86-64-cpu@2.0.0" not in published_versions(self.gg)
        self._keep(_arn(self.gg, "4.0.0"), f"deployment {outs['deployment_id']} of {group}")
        self._keep(_arn(self.gg, "3.0.0"), "kept for rollback: revision 2 of the 2 it keeps")

    def _deployed(self, deployment_provider: Provider, group: str) -> Callable[[], None]:
        """8.0.0, deployed to another group by another stack; its model stack is destroyed
        (the deployment keeps it), then the deployment's (the returned step): 8.0.0 goes."""
        model_id, _, model_outs = up(
            self.provider, self.model(8, component_version="8.0.0", owner="pulumi-dda/qa/model")
        )
        _, _, outs = up(deployment_provider, {**_deployment(group, "8.0.0", keep=1),
                                              "owner": "pulumi-dda/qa/line-2"})  # fmt: skip
        arn = _arn(self.gg, "8.0.0")
        self.gone |= {arn, _artifact(self.gg, arn)}

        def destroy() -> None:
            self.provider.delete(model_id, model_outs)
            assert arn in _state(self.gg, self.s3)[0]
            deployment_provider.delete(group, outs)

        return destroy

    def _crashed_creates(self) -> dict[str, str]:
        """Versions 5.0.0-7.0.0, each of its own stack; :meth:`_crash` says what crashed."""
        crashes = {"5.0.0": "untagged", "6.0.0": "marked", "7.0.0": "pending"}
        for seed, version in enumerate(crashes, start=5):
            up(self.provider, self.model(seed, component_version=version,
                                         owner=f"pulumi-dda/crash{seed}/model"))  # fmt: skip
        return crashes

    def _crash(self, crashes: dict[str, str]) -> None:
        """A release that died after untagging (no holder), one that died after marking (a
        stale mark), a create that died (pending holder)."""
        for version, crash in crashes.items():
            arn = _arn(self.gg, version)
            tags = self.gg.list_tags_for_resource(resourceArn=arn)["tags"]
            holders = [k for k in tags if k.startswith(USER_TAG_PREFIX)]
            if crash == "pending":
                pending = PENDING_TAG_PREFIX + holders[0].removeprefix(USER_TAG_PREFIX)
                self.gg.tag_resource(resourceArn=arn, tags={pending: tags[holders[0]]})
                self._keep(arn, "whose create has not finished")
                continue
            self.gg.untag_resource(resourceArn=arn, tagKeys=holders)
            if crash == "marked":
                stale = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y%m%dT%H%M%S.%fZ")
                self.gg.tag_resource(resourceArn=arn, tags={DELETING_TAG: f"{stale} dead"})
            self.gone |= {arn, _artifact(self.gg, arn)}

    def _folder(self) -> None:
        """A package no version uses, a foreign object, a .deleting copy, an unfinished
        multipart upload."""
        s3 = self.s3
        orphan = f"{FOLDER}model-orphan/orphan_greengrass_model_component.zip"
        s3.put_object(Bucket=ARTIFACT_BUCKET, Key=orphan, Body=b"orphan package",
                      Metadata={artifacts.SHA256_META: "0" * 64})  # fmt: skip
        self.gone.add(f"s3://{ARTIFACT_BUCKET}/{orphan}")
        foreign = f"{FOLDER}notes.txt"
        s3.put_object(Bucket=ARTIFACT_BUCKET, Key=foreign, Body=b"someone's notes")
        self.kept[f"s3://{ARTIFACT_BUCKET}/{foreign}"] = "not uploaded by pulumi-dda"
        aside = f"{orphan}{artifacts.LEGACY_ASIDE}"
        artifacts.copy_artifact(s3, ARTIFACT_BUCKET, orphan, aside)
        self.gone.add(f"s3://{ARTIFACT_BUCKET}/{aside}")
        self.partial = f"{FOLDER}model-partial/partial_greengrass_model_component.zip"
        started = s3.create_multipart_upload(Bucket=ARTIFACT_BUCKET, Key=self.partial)
        s3.upload_part(Bucket=ARTIFACT_BUCKET, Key=self.partial, UploadId=started["UploadId"],
                       PartNumber=1, Body=b"part")  # fmt: skip


@pytest.fixture
def world(
    provider: Provider,
    deployment_provider: Provider,
    ep: LocalEndpoint,
    news: dict[str, Any],
    tmp_path: Path,
    upload: Callable[[str, Path], str],
    thing_groups: list[str],
) -> World:
    def model(seed: int, **extra: Any) -> dict[str, Any]:
        return _model(news, tmp_path, upload, seed, **extra)

    return World(provider, deployment_provider, ep, model, thing_groups)


def _upload_line(report: dict[str, tuple[str, str]], key: str) -> tuple[str, str]:
    [line] = [v for k, v in report.items() if k.startswith(f"s3://{ARTIFACT_BUCKET}/{key} (")]
    return line


def test_dry_run_changes_nothing_and_apply_deletes_exactly_what_it_listed(
    world: World, ep: LocalEndpoint, gg: Any, s3: Any
) -> None:
    before = _state(gg, s3)
    dry = gc(ep)
    assert _state(gg, s3) == before
    for what, phrase in world.kept.items():
        verb, why = dry[what]
        assert verb == "kept", (what, why)
        assert phrase in why, (what, why)
    assert "held by stack prod" in dry[next(iter(world.kept))][1]  # both holders are named
    for what in world.gone:
        assert dry[what][0] == "would delete", (what, dry[what])
    assert _upload_line(dry, world.partial)[0] == "would abort"
    assert dry.summary[2:] == [
        "would delete 3 component version(s) and 5 object(s), tag 0 object(s) released, "
        "abort 1 upload(s); kept 5 version(s) and 5 object(s)",
        "run again with --apply to do it",
    ]
    would = {k for k, (verb, _) in dry.items() if verb != "kept"}

    applied = gc(ep, "--apply")
    assert {k for k, (verb, _) in applied.items() if verb != "kept"} == would
    assert {k: v[0] for k, v in applied.items() if k in world.kept} == dict.fromkeys(
        world.kept, "kept"
    )
    versions, objects, uploads = _state(gg, s3)
    for what in world.kept:
        assert what in versions or what in objects, what
    assert not world.gone & {*versions, *objects}
    assert uploads == []
    # Nothing is left to do.
    assert {verb for verb, _ in gc(ep).values()} == {"kept"}


def test_with_the_grace_period_unused_packages_are_tagged_first_and_deleted_later(
    world: World, ep: LocalEndpoint, gg: Any, s3: Any
) -> None:
    versions = {w for w in world.gone if w.startswith("arn:")}
    packages = {w for w in world.gone if w.startswith("s3:") and not w.endswith(".deleting")}
    report = gc(ep, "--apply", grace="")
    assert {w for w in versions if report[w][0] == "deleted"} == versions
    assert {w for w in packages if report[w][0] == "tagged released"} == packages
    assert "deleted once the grace period (15 min) is over" in report[min(packages)][1]
    objects = _objects(s3)
    for uri in packages:
        assert RELEASED_TAG in objects[uri]
    for what in world.kept:
        if what.startswith("s3:"):
            assert RELEASED_TAG not in objects[what], what
    # A young .deleting copy and a recently active upload may belong to a running operation.
    aside = next(w for w in world.gone if w.endswith(".deleting"))
    assert report[aside][0] == "kept"
    assert _upload_line(report, world.partial)[0] == "kept"

    # Fifteen minutes later (the tags say so), the next gc deletes them.
    old = (datetime.now(UTC) - timedelta(minutes=16)).strftime(artifacts.TIME_FORMAT)
    for uri in packages:
        key = uri.removeprefix(f"s3://{ARTIFACT_BUCKET}/")
        tagging = {"TagSet": [{"Key": RELEASED_TAG, "Value": old}]}
        s3.put_object_tagging(Bucket=ARTIFACT_BUCKET, Key=key, Tagging=tagging)
    later = gc(ep, "--apply", grace="")
    assert {w for w in packages if later[w][0] == "deleted"} == packages
    assert not packages & set(_objects(s3))


def test_owner_project_and_component_prefix_narrow_what_is_looked_at(
    world: World, ep: LocalEndpoint
) -> None:
    def versions(*args: str) -> set[str]:
        return {k for k in gc(ep, *args) if k.startswith("arn:")}

    everything = versions()
    assert everything >= {k for k in world.kept if k.startswith("arn:")}
    assert versions("--owner-project", "pulumi-dda") == everything  # owners pulumi-dda/<stack>/…
    assert versions("--owner-project", "elsewhere") == set()
    assert versions("--component-prefix", "model-other") == set()


RACES = [
    # (the call of gc's that is held while prod's up runs, what gc then does with the version)
    ("ListDeployments", "kept"),  # gc looked at the tags (no holder) and reads the deployments
    ("TagResource", "kept"),  # gc's deleting mark: prod tags itself meanwhile, gc re-reads
    ("DeleteComponent", "deleted"),  # gc decided: prod sees the mark, waits, publishes again
    ("", ""),  # no call held: gc and prod start together
]


@pytest.mark.parametrize(("operation", "outcome"), RACES)
def test_an_up_taking_a_version_over_during_gc_apply_loses_nothing(
    provider_with_grace: Callable[[str, str], Provider],
    ep: LocalEndpoint,
    news: dict[str, Any],
    gg: Any,
    s3: Any,
    operation: str,
    outcome: str,
) -> None:
    """Dev's release died after untagging its versions: gc --apply deletes them while prod's
    ``up`` of the same content takes them over, started while one call of gc's is held (the
    grace period is the default one: it is what protects a concurrent up's objects). Prod ends
    with DEPLOYABLE versions it holds and whose artifacts are in place; a second gc deletes
    none of it."""
    provider = provider_with_grace("plugin", "")
    up(provider, {**news, "owner": "pulumi-dda/dev/model"})
    names = ("model-defects-jetson-xavier", "model-defects-x86-64-cpu")
    for name in names:
        arn = _arn(gg, "1.0.0", name)
        tags = gg.list_tags_for_resource(resourceArn=arn)["tags"]
        gg.untag_resource(
            resourceArn=arn, tagKeys=[k for k in tags if k.startswith(USER_TAG_PREFIX)]
        )
    prod_inputs, failures = provider.check({}, {**news, "owner": "pulumi-dda/prod/model"})
    assert failures == []
    if operation:
        ep.inject_fault(operation, "", 1, delay=3.0, service="greengrassv2")
    adopted: dict[str, Any] = {}
    prod = threading.Thread(target=lambda: adopted.update(outs=provider.create(prod_inputs)[1]))
    result: dict[str, Any] = {}
    collector = threading.Thread(target=lambda: result.update(gc(ep, "--apply", grace="")))
    with ArtifactWatcher(ep.client("greengrassv2"), ep.client("s3")) as watcher:
        collector.start()
        deadline = time.monotonic() + 60
        while ep.faults():  # gc's call has arrived and is held
            assert time.monotonic() < deadline, f"gc never called {operation}"
            time.sleep(0.01)
        prod.start()
        prod.join()
        collector.join()
    watcher.check()
    first = _arn(gg, "1.0.0", names[0])  # gc looks at versions in order: the held call's
    if outcome:
        assert result[first][0] == outcome, result[first]
    for component in adopted["outs"]["components"].values():
        status = gg.describe_component(arn=component["arn"])["status"]["componentState"]
        assert status == "DEPLOYABLE"
        tags = gg.list_tags_for_resource(resourceArn=component["arn"])["tags"]
        assert [v for k, v in tags.items() if k.startswith(USER_TAG_PREFIX)] == [
            "pulumi-dda/prod/model"
        ]
        assert component["artifact_uri"] in _objects(s3)
    again = gc(ep, "--apply", grace="")
    for component in adopted["outs"]["components"].values():
        assert again[component["arn"]][0] == "kept"
        assert again[component["artifact_uri"]][0] == "kept"
    assert published_versions(gg) == [f"{name}@1.0.0" for name in names]
