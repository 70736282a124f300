"""``pulumi-dda gc``: what this project left in an account and region, and nothing else.

A dry run by default: it prints each component version and artifact object it looked at, what
it would do and, for each survivor, what keeps it. ``--apply`` does it. The rules are those
the resources follow, called from where they live; gc adds only which things it looks at.

**Which versions.** Every private component named ``--component-prefix`` (default
``model-``, the DDA contract's) with a version carrying ``pulumi-dda:owner``: such a
component is this project's. Its versions made by pulumi-dda (``--owner-project`` narrows
them to owners ``<project>/...``) are candidates; one without the owner tag is listed as kept
and never deleted.

**What keeps a version** (:func:`pulumi_dda.ownership.what_keeps`, the rule of
:func:`~pulumi_dda.ownership.release`):

- a holder, ``pulumi-dda:user:<instance>``: a resource of some stack, ``pulumi-dda publish``,
  or a create that has not finished (its ``pulumi-dda:pending:`` tag; gc cannot tell one that
  is running from one that crashed, so it keeps both: that stack's next ``up`` or ``destroy``
  sweeps what a crash left);
- a deployment: the latest revision of any target in the account and region, or a rollback
  target, one of the ``K`` newest revisions of a target whose latest revision carries
  ``pulumi-dda:keep-revisions`` = K (:class:`pulumi_dda.ownership.DeploymentIndex`).

A version with neither is deleted with :func:`pulumi_dda.ownership.release` as a holder of its
own (``pulumi-dda-gc``): it marks the version ``pulumi-dda:deleting``, reads its holders again
and deletes it only if there is still none, so an ``up`` that takes the version over at the
same moment either makes gc keep it or finds it gone and publishes it again.

**Which objects.** The ``model_artifacts/`` folder of every artifact the recipes of those
versions name, and the one under ``--bucket``/``--prefix`` (to reach packages no version names
any more). Every object and unfinished multipart upload in them goes through
:func:`pulumi_dda.artifacts.release_artifacts` (:class:`~pulumi_dda.artifacts.Collect`): an
object some component version in the account and region uses stays; one without pulumi-dda's
``sha256`` metadata is never touched; the packages of versions gc deletes, and any other of
pulumi-dda's that nothing uses, are tagged released and deleted by a gc (or a create or
destroy in the folder) once the grace period is over (``PULUMI_DDA_ARTIFACT_GRACE_SECONDS``,
15 min: a concurrent ``up`` may be about to use an object that looks unused); ``<key>.deleting``
copies and uploads idle longer than the grace period are removed. A dry run answers as if the
versions it would delete were gone.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass
from typing import Any

from . import arn as arns
from . import greengrass, ownership
from ._types import Progress, no_progress
from .artifacts import ABORT, DELETE, KEEP, TAG, Collect, Fate, release_artifacts
from .aws import AwsClients, AwsSettings
from .errors import NotFoundError
from .properties import MODEL

HOLDER = ownership.Holder(owner="pulumi-dda-gc", instance="gc")
"""The holder gc releases versions as: it holds none, so a release only checks and deletes."""
VERBS = {TAG: ("would tag released", "tagged released"), DELETE: ("would delete", "deleted")}
VERBS[ABORT] = ("would abort", "aborted")


@dataclass(frozen=True)
class Scope:
    """What gc looks at (see the module docstring)."""

    component_prefix: str = "model-"
    owner_project: str = ""
    bucket: str = ""
    prefix: str = ""

    def owns(self, tags: dict[str, str]) -> bool:
        owner = tags.get(ownership.OWNER_TAG)
        return owner is not None and owner.startswith(
            f"{self.owner_project}/" if self.owner_project else ""
        )


@dataclass(frozen=True)
class Version:
    """One version gc looked at: what keeps it (nothing: it goes) and its artifacts."""

    arn: str
    keepers: tuple[str, ...]
    artifacts: frozenset[str]


@dataclass(frozen=True)
class Report:
    versions: list[Fate]
    objects: list[Fate]
    applied: bool

    def lines(self) -> list[str]:
        out = ["component versions:"]
        out += [f"  {_line(f, self.applied)}" for f in self.versions] or ["  (none)"]
        out += ["artifact objects:"]
        out += [f"  {_line(f, self.applied)}" for f in self.objects] or ["  (none)"]
        versions = Counter(f.action for f in self.versions)
        objects = Counter(f.action for f in self.objects)
        words = (
            ("deleted", "tagged", "aborted") if self.applied else ("would delete", "tag", "abort")
        )
        out.append(
            f"{words[0]} {versions[DELETE]} component version(s) and {objects[DELETE]} "
            f"object(s), {words[1]} {objects[TAG]} object(s) released, {words[2]} "
            f"{objects[ABORT]} upload(s); kept {versions[KEEP]} version(s) and {objects[KEEP]} "
            "object(s)"
        )
        if not self.applied and any(f.action != KEEP for f in [*self.versions, *self.objects]):
            out.append("run again with --apply to do it")
        return out


def _line(fate: Fate, applied: bool) -> str:
    if fate.action == KEEP:
        return f"{fate.uri}: kept: {fate.reason}"
    verb = VERBS[fate.action][1 if fate.done and applied else 0]
    return f"{fate.uri}: {verb}: {fate.reason}" if fate.reason else f"{fate.uri}: {verb}"


def survey(
    clients: AwsClients, scope: Scope, deployments: ownership.DeploymentIndex
) -> list[Version]:
    """The versions of this project's components (see the module docstring), oldest first."""
    gg = clients.greengrass
    found = []
    for component in sorted(greengrass.list_components(gg, scope.component_prefix)):
        tagged = {}
        for version in reversed(greengrass.list_versions(gg, component)):
            arn = arns.version_of(component, version)
            try:
                tagged[arn] = greengrass.get_tags(gg, arn)
            except NotFoundError:
                continue
        if not any(scope.owns(tags) for tags in tagged.values()):
            continue
        for arn, tags in tagged.items():
            if ownership.OWNER_TAG in tags and not scope.owns(tags):
                continue  # another project's (--owner-project)
            try:
                uris = greengrass.artifact_uris(greengrass.get_recipe(gg, arn))
            except NotFoundError:
                continue
            keepers = ownership.what_keeps(tags, arn, deployments)
            found.append(Version(arn, tuple(keepers), frozenset(uris)))
    return found


def collect(
    clients: AwsClients, scope: Scope, *, apply: bool, progress: Progress = no_progress
) -> Report:
    """Look (and with ``apply`` act): versions first, then the artifact folders."""
    gg = clients.greengrass
    deployments = ownership.DeploymentIndex(gg)
    versions = survey(clients, scope, deployments)
    doomed = [v for v in versions if not v.keepers]
    fates = {v.arn: Fate(v.arn, KEEP, "; ".join(v.keepers)) for v in versions if v.keepers}
    released: set[str] = set()
    for version in doomed:
        if not apply:
            fates[version.arn] = Fate(version.arn, DELETE, _NOTHING_KEEPS, done=False)
            released |= version.artifacts
            continue
        outcome = ownership.release(gg, version.arn, HOLDER, deployments)
        progress(f"{version.arn}: {outcome}")
        if outcome.startswith("kept: "):  # taken over meanwhile
            fates[version.arn] = Fate(version.arn, KEEP, outcome.removeprefix("kept: "))
            continue
        why = _NOTHING_KEEPS if outcome == "deleted" else f"{_NOTHING_KEEPS} ({outcome})"
        fates[version.arn] = Fate(version.arn, DELETE, why)
        released |= version.artifacts
    places = {uri for v in versions for uri in v.artifacts}
    if scope.bucket:
        places.add(f"s3://{scope.bucket}/{scope.prefix}model_artifacts/")
    forget = frozenset() if apply else frozenset(v.arn for v in doomed)
    objects = release_artifacts(
        clients.s3,
        gg,
        released,
        places=places,
        progress=progress,
        collect=Collect(dry_run=not apply, forget=forget),
    )
    return Report([fates[v.arn] for v in versions], objects, apply)


_NOTHING_KEEPS = "no stack holds it and no deployment uses it or may roll back to it"


def add_parser(sub: Any) -> None:
    """Register ``gc`` with the CLI's subparsers."""
    gc = sub.add_parser(
        "gc",
        help="list (--apply: delete) the component versions and artifact objects nothing uses",
        description="List the component versions of this project's components (versions "
        "tagged pulumi-dda:owner) that no stack holds and no deployment uses or keeps for "
        "rollback, and the artifact objects no version uses; say why each survivor stays. "
        "A dry run unless --apply. Unused objects are tagged released and deleted by a later "
        "gc once the grace period is over (PULUMI_DDA_ARTIFACT_GRACE_SECONDS, default 900).",
        epilog="example: pulumi-dda gc --region eu-west-1 --bucket edge-artifacts --prefix dda/",
    )
    gc.add_argument("--apply", action="store_true", help="delete; without it, only print")
    gc.add_argument(
        "--component-prefix", default="model-", help="components named so (default: model-)"
    )
    gc.add_argument(
        "--owner-project",
        default="",
        help="only versions a stack of this Pulumi project made (pulumi-dda:owner=PROJECT/...)",
    )
    gc.add_argument("--bucket", default="", help="artifact bucket to look in as well")
    gc.add_argument("--prefix", default="", help="its key prefix ending in '/', e.g. dda/")
    for prop in MODEL.inputs:
        if prop.snake in {"region", "role_arn"} and prop.cli is not None:
            gc.add_argument(prop.cli.flag, dest=prop.snake, default="", help=prop.cli.help)
    gc.add_argument("--profile", default="", help="AWS profile (default: AWS_PROFILE)")


def run(args: argparse.Namespace) -> int:
    """``pulumi-dda gc``: prints the report on stdout, progress on stderr."""
    settings = AwsSettings(region=args.region, profile=args.profile, role_arn=args.role_arn)
    clients = AwsClients(settings)
    scope = Scope(args.component_prefix, args.owner_project, args.bucket, args.prefix)
    say = (lambda line: print(line, file=sys.stderr)) if args.apply else no_progress
    report = collect(clients, scope, apply=args.apply, progress=say)
    print(f"pulumi-dda gc in {clients.region}" + ("" if args.apply else " (dry run)"))
    print("\n".join(report.lines()))
    return 0
