"""``pulumi-dda rollback --stack prod``: the stack's previous good model, back in its stack file.

A rollback is a change like any other: it edits ``Pulumi.<stack>.yaml`` (a reviewable pull
request) and a plain ``pulumi up`` applies it. What it writes comes from the stack's own
history (``pulumi stack history --json``, which records the config each update ran with):

- **The previous good model**: after a failed update (a canary stopped a bad model and
  reverted it), the model the newest successful update deployed, which the devices still run;
  after a successful update (a bad model went out, devices misbehave since), the newest
  earlier successful update whose model differs from it once pinned (an overwritten key with
  the same URI is a different model; an update that changed only tags is not).
- **Pinned** as :mod:`.promote` pins: each ``s3://`` source that names no object version gets
  the version that was current when that update started (``ListObjectVersions``), so the
  rollback rebuilds exactly the bytes of then even if the key was overwritten since. A bucket
  without versioning is accepted only when the object is unchanged since that update; a
  ``sagemaker://`` name and a local path stay as they are (a note says that
  ``:latest-approved`` resolves again).
- **Same versions.** The rebuilt content is identical to what that update published, so the
  model component takes the version it published then instead of a new one
  (:func:`.ownership.next_version`): devices go back to exactly that version. It still exists
  because a ``GreengrassDeployment`` keeps the versions of its target's newest
  ``keep_revisions`` revisions (default 3), whichever stack would delete them.

The Pulumi CLI answers for the stack, run in the project directory with the caller's backend
settings; AWS is asked with the stack file's ``aws:region``, ``aws:profile`` and
``pulumi-dda:roleArn``.
"""

from __future__ import annotations

import argparse
import copy
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .aws import AwsClients, aws_errors
from .promote import (
    MODEL_CONFIG,
    PromotionRefused,
    PulumiCli,
    StackState,
    deployed_model,
    edit_stack_file,
    project_dir_of,
    source_paths,
    stack_clients,
    when,
)
from .sagemaker import is_sagemaker
from .sources import is_s3, parse_s3_source
from .stack_file import StackFile


class RollbackRefused(PromotionRefused):
    """The stack's history has no model to go back to, or it cannot be pinned."""


def _updates(history: Sequence[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The updates that recorded a model block, newest first, with their blocks."""
    found = []
    for entry in history:
        block = deployed_model(entry) if entry.get("kind") == "update" else None
        if isinstance(block, dict):
            found.append((entry, block))
    return found


def previous_good(
    stack: str, history: Sequence[dict[str, Any]], pin: Callable[[dict[str, Any], Any], Any]
) -> tuple[dict[str, Any], Any, bool]:
    """The update to go back to, its pinned block, and whether the last update failed.

    After a failed update (a bad model stopped and reverted), the model still running: the
    newest successful update's. After a successful one, the newest earlier successful update
    whose pinned model differs from it (an update that changed only tags or a deployment is
    no model to go back to)."""
    updates = _updates(history)
    good = [(e, b) for e, b in updates if e.get("result") == "succeeded"]
    if not good:
        raise RollbackRefused(f"{stack}'s history has no successful update with a model")
    failed = bool(updates) and updates[0][0].get("result") != "succeeded"
    running = pin(good[0][1], good[0][0])
    if failed:
        return good[0][0], running, True
    for entry, block in good[1:]:
        pinned = pin(block, entry)
        if pinned != running:
            return entry, pinned, False
    raise RollbackRefused(
        f"{stack}'s history has no successful update with another model than the one it runs: "
        "nothing to roll back to"
    )


def pinned_at(uri: str, started: datetime, clients: AwsClients, notes: list[str]) -> str:
    """``uri`` pinned to the object version that was current at ``started``."""
    if is_sagemaker(uri):
        if uri.endswith(":latest-approved"):
            notes.append(f"{uri} resolves again: it may name a newer approved package now")
        return uri
    if not is_s3(uri):
        return uri
    source = parse_s3_source(uri)
    if source.version_id is not None:
        return uri
    with aws_errors(f"listing the object versions of {uri}"):
        pages = clients.s3.get_paginator("list_object_versions").paginate(
            Bucket=source.bucket, Prefix=source.key
        )
        versions = [
            v for page in pages for v in page.get("Versions", []) if v.get("Key") == source.key
        ]
    if versions and all(v.get("VersionId") in (None, "null") for v in versions):
        if any(v["LastModified"] > started for v in versions):
            raise RollbackRefused(
                f"{uri} changed since that update and bucket {source.bucket} keeps no object "
                "versions: enable versioning so a rollback can name what ran"
            )
        notes.append(f"{uri}: unchanged since (bucket without versioning, not pinned)")
        return uri
    then = [v for v in versions if v["LastModified"] <= started]
    if not then:
        raise RollbackRefused(f"{uri}: no object version existed when that update started")
    version_id = str(max(then, key=lambda v: v["LastModified"])["VersionId"])
    return f"{uri}?versionId={quote(version_id, safe='')}"


def rollback(
    file: StackFile, stack: str, state: StackState, clients: AwsClients
) -> tuple[StackFile, list[str]]:
    """Write the previous good model block, pinned, into ``file`` (in memory); returns notes."""
    notes: list[str] = []

    def pin(block: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
        started = _started(entry)
        pinned = copy.deepcopy(block)
        for path, (_, uri) in source_paths(block).items():
            at = pinned_at(uri, started, clients, notes)
            if path == "trainedModelUri":
                pinned[path] = at
            else:
                pinned["compiledModels"][path.split(".", 1)[1]] = at
        return pinned

    entry, restored, failed = previous_good(stack, state.history(stack), pin)
    notes[:] = sorted(set(notes))
    if failed:
        notes.insert(0, f"{stack}'s last update failed: back to the model it still runs")
    notes.insert(0, f"the model of {stack}'s update {when(entry)}")
    notes.append(
        "pulumi up takes the versions that update published (identical content), kept for "
        "rollback by the deployments' keepRevisions"
    )
    file.set_block(MODEL_CONFIG, restored)
    return file, notes


def _started(entry: dict[str, Any]) -> datetime:
    text = str(entry.get("startTime") or "")
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise RollbackRefused(f"the history entry {when(entry)} has no start time") from None


EXAMPLES = """\
examples:
  pulumi-dda rollback --stack prod
      write prod's previous good model into stacks/Pulumi.prod.yaml and print the change
  pulumi-dda rollback --stack prod --dry-run
      print the change without writing the file

Then review the change and run `pulumi up --stack prod`. Exit status 1 when refused.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pulumi-dda rollback",
        description=(
            "Write the stack's previous good model block (from its own update history,\n"
            "sources pinned to the object versions of then) into its stack file."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--stack", required=True, metavar="STACK", help="the stack to roll back, e.g. prod"
    )
    parser.add_argument(
        "--stacks-dir",
        type=Path,
        default=Path("stacks"),
        metavar="DIR",
        help="where the Pulumi.<stack>.yaml files are (default: stacks)",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the change but write nothing")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    return parser


def cli_main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(argv)

    def edit() -> tuple[StackFile, list[str]]:
        file = StackFile.read(args.stacks_dir / f"Pulumi.{args.stack}.yaml")
        project = project_dir_of(args.stacks_dir.resolve())
        clients = stack_clients(file, "pulumi-dda-rollback")
        return rollback(file, args.stack, PulumiCli(project), clients)

    return edit_stack_file(
        "rollback",
        args,
        edit,
        unchanged="already names that model",
        written=f"review it, then `pulumi up --stack {args.stack}`",
    )
