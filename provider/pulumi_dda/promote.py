"""``pulumi-dda promote --from dev --to prod``: the model a stack tested, pinned, into the next.

A promotion copies the source stack's ``pulumi-dda:model`` config block into the target
stack's file, pinned to exactly what the source stack published:

- each S3 source becomes ``s3://bucket/key?versionId=<id>``, the object version a fresh
  ``HeadObject`` of the source finds (a source already pinned stays as it is, a local path
  stays a path), so someone overwriting the key later does not change what the target builds;
- ``componentVersion`` becomes the version every target of the source stack resolved to (its
  ``components`` output); when the targets' versions differ it is left out, so the target stack
  resolves its own version per target.

It refuses when what would be copied is not what the source stack last deployed: its last
update failed (or something failed after it), its file's model block changed since that update,
or a source archive changed since (its identity now differs from the ``source_identities`` the
source stack recorded in its state). It also refuses an S3 source in a bucket without
versioning: there is no object version to pin, so promotion needs versioned source buckets.
The Pulumi CLI answers for the stack (``pulumi stack
history --json``, ``pulumi stack export``), run in the project directory with the caller's
backend settings; the stack files are edited by :mod:`.stack_file`.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from ._host import from_state
from .aws import AwsClients, AwsSettings
from .errors import DdaError, NotFoundError
from .properties import LEGACY_TYPES, MODEL_COMPONENT
from .sagemaker import SCHEME, is_sagemaker
from .sources import Identity, is_s3, parse_s3_source, source_identity
from .stack_file import StackFile

MODEL_CONFIG = "pulumi-dda:model"
ROLE_CONFIG = "pulumi-dda:roleArn"
MODEL_RESOURCE = "model"
"""The logical name of the stacks program's ``DdaModelComponent``."""
MODEL_TYPES = (MODEL_COMPONENT, *LEGACY_TYPES[MODEL_COMPONENT])
"""The model component's type, and those of stacks not yet moved to the plugin."""
STACK_TYPE = "pulumi:pulumi:Stack"
TRAINED = ("trainedModelUri", "trained_model_uri")


class PromotionRefused(DdaError):
    """The source stack is not in a state its model block may be promoted from."""


class StackState(Protocol):
    """What a promotion reads about a stack from Pulumi."""

    def history(self, stack: str) -> list[dict[str, Any]]: ...

    def export(self, stack: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class PulumiCli:
    """The Pulumi CLI in ``project_dir``, with the caller's environment (backend, passphrase)."""

    project_dir: Path
    command: str = "pulumi"

    def _json(self, *args: str) -> Any:
        executable = shutil.which(self.command)
        if executable is None:
            raise DdaError(f"the Pulumi CLI ({self.command}) is not on PATH")
        result = subprocess.run(
            [executable, *args, "--non-interactive"],
            cwd=self.project_dir,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            lines = result.stderr.strip().splitlines() or [f"exit status {result.returncode}"]
            raise DdaError(f"pulumi {' '.join(args)}: {lines[-1]}")
        return json.loads(result.stdout or "null")

    def history(self, stack: str) -> list[dict[str, Any]]:
        # Enough entries to reach the last update past a run of refreshes.
        listed = self._json("stack", "history", "--json", "--page-size", "100", "--stack", stack)
        return list(listed or [])

    def export(self, stack: str) -> dict[str, Any]:
        return dict(self._json("stack", "export", "--stack", stack) or {})


@dataclass
class Promotion:
    """The edited target file and what a person should know about the edit."""

    target: StackFile
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.target.text() != self.target.original


def last_update(stack: str, history: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The stack's last update, which must have succeeded with nothing failed after it.

    A successful refresh after it is fine (the state was only re-read); anything else after
    it (a destroy, an import, a failed or running operation) means the state is not what that
    update left.
    """
    # `pulumi stack history` lists the most recent first (file backends number nothing: 0).
    for entry in history:
        kind, result = entry.get("kind"), entry.get("result")
        at = when(entry)
        if kind == "update":
            if result != "succeeded":
                raise PromotionRefused(
                    f"{stack}'s last update ({at}) {result}: fix {stack} and run "
                    f"`pulumi up` on it before promoting from it"
                )
            return entry
        if kind in {"refresh", "preview"} and result == "succeeded":
            continue
        raise PromotionRefused(
            f"after its last update {stack} had a {kind} that {result} ({at}): "
            f"run `pulumi up` on {stack} before promoting from it"
        )
    raise PromotionRefused(f"{stack} has no update in its history: nothing was deployed")


def when(entry: dict[str, Any]) -> str:
    number = f"#{entry['version']}, " if entry.get("version") else ""
    return f"{number}started {entry.get('startTime')}"


def deployed_model(update: dict[str, Any]) -> Any:
    """The ``pulumi-dda:model`` config the update ran with (None if the backend kept none)."""
    value = (update.get("config") or {}).get(MODEL_CONFIG)
    if not isinstance(value, dict):
        return None
    if value.get("objectValue") is not None:
        return value["objectValue"]
    return json.loads(value["value"]) if value.get("value") else None


def recorded_state(stack: str, deployment: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """From ``pulumi stack export``: the model's recorded source identities and the stack's
    ``components`` output as target → component version."""
    resources = (deployment.get("deployment") or {}).get("resources") or []
    models = [
        r
        for r in resources
        if r.get("type") in MODEL_TYPES and str(r.get("urn", "")).endswith(f"::{MODEL_RESOURCE}")
    ]
    roots = [r for r in resources if r.get("type") == STACK_TYPE]
    if len(models) != 1 or not roots:
        raise PromotionRefused(
            f"{stack}'s state has no DdaModelComponent {MODEL_RESOURCE!r}: nothing deployed"
        )
    outputs = from_state(models[0].get("outputs") or {}, ("source_identities",))
    identities = outputs.get("source_identities")
    components = (roots[0].get("outputs") or {}).get("components")
    if not isinstance(identities, dict) or not isinstance(components, dict) or not components:
        raise PromotionRefused(
            f"{stack}'s state records no source_identities or components output for its model"
        )
    versions = {str(t): str(c["component_version"]) for t, c in components.items()}
    return {str(k): str(v) for k, v in identities.items()}, versions


def source_paths(block: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Config path → (source_identities key, URI) for every source of a model block."""
    found = {TRAINED[0]: (TRAINED[1], str(block[TRAINED[0]]))}
    for target, uri in (block.get("compiledModels") or {}).items():
        found[f"compiledModels.{target}"] = (f"compiled_models.{target}", str(uri))
    return found


def pin_uri(uri: str, identity: str) -> str:
    """``uri`` pinned to the object version in its identity; a pinned or local source as is.

    A ``sagemaker://`` name becomes the name it resolved to (a ``:latest-approved`` package
    the version it found) with the object version of what it resolved to:
    ``sagemaker://model-package/arn:aws:sagemaker:…:model-package/defects/3?versionId=<id>``;
    a job keeps its name (looked up in the target stack's account)."""
    recorded = Identity.parse(identity)
    if is_sagemaker(uri) and recorded.via:
        if not recorded.version_id or recorded.version_id == "null":
            raise _unversioned(
                parse_s3_source(recorded.at).bucket, f"{uri} resolved to {recorded.at}"
            )
        return f"{SCHEME}{recorded.via}?versionId={quote(recorded.version_id, safe='')}"
    if not is_s3(uri) or parse_s3_source(uri).version_id is not None:
        return uri
    version_id = recorded.version_id
    if not version_id or version_id == "null":
        raise _unversioned(parse_s3_source(uri).bucket, uri)
    return f"{uri}?versionId={quote(version_id, safe='')}"


def _unversioned(bucket: str, what: str) -> PromotionRefused:
    return PromotionRefused(
        f"promotion needs versioned source buckets: enable versioning on bucket {bucket} "
        f"({what} has no object version to pin), write the source again and run `pulumi up` "
        "on the source stack: a promotion names the exact object version it tested"
    )


def pinned_block(
    block: dict[str, Any],
    fresh: dict[str, str],
    versions: dict[str, str],
    source_stack: str,
    notes: list[str],
) -> dict[str, Any]:
    """The model block with its sources pinned and its component version(s) resolved."""
    pinned = copy.deepcopy(block)
    for path, (key, uri) in source_paths(block).items():
        new = pin_uri(uri, fresh[key])
        if is_sagemaker(uri):
            notes.append(f"{path}: {uri} pinned as {new}")
        if path == TRAINED[0]:
            pinned[TRAINED[0]] = new
        else:
            pinned["compiledModels"][path.split(".", 1)[1]] = new
    targets = set(pinned.get("compiledModels") or {})
    if set(versions) != targets:
        raise PromotionRefused(
            f"the components output has targets {sorted(versions)} but the model block has "
            f"{sorted(targets)}: run `pulumi up` on the source stack"
        )
    distinct = sorted(set(versions.values()))
    if len(distinct) == 1:
        pinned = _with_version(pinned, distinct[0])
        notes.append(
            f"componentVersion {distinct[0]}: the version every target of {source_stack} "
            "resolved to"
        )
    else:
        pinned.pop("componentVersion", None)
        per_target = ", ".join(f"{t} {v}" for t, v in sorted(versions.items()))
        notes.append(
            f"the targets' versions differ ({per_target}): componentVersion left out, so the "
            "target stack resolves its own version per target"
        )
    return pinned


def _with_version(block: dict[str, Any], version: str) -> dict[str, Any]:
    if "componentVersion" in block:
        return {**block, "componentVersion": version}
    result: dict[str, Any] = {}
    for key, value in block.items():
        result[key] = value
        if key == "componentName":
            result["componentVersion"] = version
    return result


def promote(
    source: StackFile,
    target: StackFile,
    source_stack: str,
    state: StackState,
    identity_of: Callable[[str], str],
) -> Promotion:
    """Check the source stack and write its pinned model block into ``target`` (in memory)."""
    block = source.get(MODEL_CONFIG)
    if not isinstance(block, dict) or TRAINED[0] not in block:
        raise PromotionRefused(f"{source.path} has no {MODEL_CONFIG} block with {TRAINED[0]}")
    update = last_update(source_stack, state.history(source_stack))
    deployed = deployed_model(update)
    if deployed is not None and deployed != block:
        raise PromotionRefused(
            f"{source.path}'s {MODEL_CONFIG} changed since {source_stack}'s last update "
            f"({when(update)}): run `pulumi up` on {source_stack} first"
        )
    identities, versions = recorded_state(source_stack, state.export(source_stack))
    fresh: dict[str, str] = {}
    changed: list[str] = []
    for path, (key, uri) in source_paths(block).items():
        try:
            fresh[key] = identity_of(uri)
        except NotFoundError:
            fresh[key] = "nothing (deleted)"
        if identities.get(key) != fresh[key]:
            changed.append(f"{path} ({uri}: recorded {identities.get(key)}, now {fresh[key]})")
    if changed:
        raise PromotionRefused(
            f"sources changed since {source_stack}'s last update: {'; '.join(changed)}; "
            f"run `pulumi up` on {source_stack} (and test it) before promoting"
        )
    notes = [f"{source_stack}'s last update ({when(update)}) succeeded; sources unchanged since"]
    target.set_block(MODEL_CONFIG, pinned_block(block, fresh, versions, source_stack, notes))
    return Promotion(target, notes)


def stack_clients(file: StackFile, session_name: str) -> AwsClients:
    """AWS clients with a stack file's ``aws:region``, ``aws:profile`` and role."""
    return AwsClients(
        AwsSettings(
            region=str(file.get("aws:region") or ""),
            profile=str(file.get("aws:profile") or ""),
            role_arn=str(file.get(ROLE_CONFIG) or ""),
            session_name=session_name,
        )
    )


def _identity_reader(source: StackFile, project_dir: Path) -> Callable[[str], str]:
    """Source identities as the source stack's provider computes them, with its settings."""
    clients = stack_clients(source, "pulumi-dda-promote")

    def identity_of(uri: str) -> str:
        if is_s3(uri) or is_sagemaker(uri) or os.path.isabs(uri):
            return source_identity(uri, clients)
        # A relative local path is relative to the project directory, where pulumi runs.
        return source_identity(str(project_dir / uri), clients)

    return identity_of


def project_dir_of(stacks_dir: Path) -> Path:
    """The directory holding ``Pulumi.yaml``: the stacks directory or one of its parents."""
    for directory in [stacks_dir, *stacks_dir.parents]:
        if (directory / "Pulumi.yaml").is_file():
            return directory
    raise DdaError(f"no Pulumi.yaml in {stacks_dir} or any directory above it")


EXAMPLES = """\
examples:
  pulumi-dda promote --from dev --to prod
      pin dev's model into stacks/Pulumi.prod.yaml and print the change
  pulumi-dda promote --from dev --to prod --dry-run
      print the change without writing the file
  pulumi-dda promote --from staging --to prod --stacks-dir infra/stacks
      stack files in infra/stacks/ (the Pulumi project is there or in a parent)

Pulumi is asked about the source stack with the backend settings of the environment
(PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE, ...); AWS with the source stack's aws:region,
aws:profile and pulumi-dda:roleArn. Exit status 1 when the promotion is refused.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pulumi-dda promote",
        description=(
            "Copy the source stack's pulumi-dda:model block into the target stack's file,\n"
            "each S3 source pinned to its object version (?versionId=) and the component\n"
            "version pinned to what the source stack resolved. Refused when the source\n"
            "stack's last update failed or its sources changed since."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--from",
        dest="source",
        required=True,
        metavar="STACK",
        help="the stack that tested the model, e.g. --from dev",
    )
    parser.add_argument(
        "--to",
        dest="target",
        required=True,
        metavar="STACK",
        help="the stack whose file gets the model, e.g. --to prod",
    )
    parser.add_argument(
        "--stacks-dir",
        type=Path,
        default=Path("stacks"),
        metavar="DIR",
        help="where the Pulumi.<stack>.yaml files are (default: stacks), "
        "e.g. --stacks-dir infra/stacks",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the change but write nothing, e.g. in a pull-request check: "
        "--from dev --to prod --dry-run",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="show the traceback of an error, e.g. --from dev --to prod --debug",
    )
    return parser


def cli_main(argv: Sequence[str]) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.source == args.target:
        parser.error("--from and --to name the same stack")

    def edit() -> tuple[StackFile, list[str]]:
        source = StackFile.read(args.stacks_dir / f"Pulumi.{args.source}.yaml")
        target = StackFile.read(args.stacks_dir / f"Pulumi.{args.target}.yaml")
        project = project_dir_of(args.stacks_dir.resolve())
        result = promote(
            source, target, args.source, PulumiCli(project), _identity_reader(source, project)
        )
        return result.target, result.notes

    return edit_stack_file(
        "promote",
        args,
        edit,
        unchanged=f"{MODEL_CONFIG} already matches {args.source}'s",
        written=f"{args.target}'s `pulumi preview` shows this change",
    )


def edit_stack_file(
    command: str,
    args: argparse.Namespace,
    edit: Callable[[], tuple[StackFile, list[str]]],
    *,
    unchanged: str,
    written: str,
) -> int:
    """Run a command that edits a stack file: its notes, the diff, and the file written unless
    ``--dry-run``; a refusal or error is one line (``--debug``: the traceback)."""
    try:
        file, notes = edit()
    except DdaError as exc:
        if args.debug:
            raise
        kind = "refused" if isinstance(exc, PromotionRefused) else "error"
        print(f"pulumi-dda {command}: {kind}: {exc}", file=sys.stderr)
        return 1
    for note in notes:
        print(f"- {note}")
    if file.text() == file.original:
        print(f"{file.path}: {unchanged}; nothing to change")
        return 0
    print(file.diff())
    if args.dry_run:
        print(f"--dry-run: {file.path} not written")
    else:
        file.write()
        print(f"wrote {file.path}: {written}")
    return 0
