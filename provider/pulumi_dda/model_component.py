"""``DdaModelComponent``: a DDA model component as a Pulumi dynamic resource.

Lifecycle (the user's view is in the README; who holds which version is in :mod:`.ownership`):

- **check** parses the inputs once (:class:`.inputs.ModelInputs`) and runs every validation
  that needs no package. It records each source archive's identity (S3 ETag and version id from
  ``HeadObject``, a local file's SHA-256) in ``source_identities``, builds the DDA manifest
  (phase 1, reading the trained model only when its identity changed, and then exactly the
  object that identity names) into ``manifest``, and
  resolves each target's version into ``versions``: a target whose content fingerprint is
  unchanged keeps its version without any AWS call; a changed target takes the next free
  major version (``component_version`` omitted) or the given one, which must not already
  exist with other content. So the preview shows the version a deployment moves to, and
  ``plan`` says per target why (:func:`.model_plan._plan`). Bookkeeping is kept in state under
  ``__``-prefixed names (``STATE_ONLY``), which no preview displays.
- **diff** replaces when ``versions`` (or the region, role or owner) changes; pinning the
  resolved version, or omitting it again, changes nothing. Any other input change (tags, an
  archive moved to another key with the same bytes) is an in-place update.
- **create** handles every target in parallel: an identical existing version (same
  fingerprint) is taken over without packaging anything, once ``DEPLOYABLE``; otherwise the
  package is built from exactly the object whose identity check recorded (and fingerprinted;
  a source changed since fails naming the input), uploaded, the version created and waited
  for, and the service's digest checked. A failure releases what the call took and raises
  one error naming the target and phase.
- **update** re-tags the versions this resource's owner created; **read** drops the resource
  from state when a version vanished or is ``FAILED`` (the next ``up`` repairs it) and reports
  tag drift; **delete** releases the versions (never deleting one another stack holds or a
  latest deployment uses), sweeps what crashed creates of this resource left, then tags the
  artifact objects no component version references any more as released; they are deleted
  after a grace period by a later create or delete (:mod:`.artifacts`).

The provider class is pickled by reference (it lives in this installed module) and holds only
the plain strings read from the stack config; AWS clients are built inside each hook.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    UpdateResult,
)
from pulumi.runtime.rpc import UNKNOWN

from . import arn as arns
from . import artifacts, greengrass, ownership
from ._host import (
    AwsResourceProvider,
    hook,
    is_known,
    progress,
)
from ._parallel import fan_out
from ._types import JSONDict
from .errors import (
    DdaError,
    InputError,
)
from .inputs import ModelInputs, check_region
from .model_create import _Create, _keep, _release_artifacts, _Target
from .model_plan import (
    TRAINED_KEY,
    _compared,
    _contents,
    _fingerprint,
    _keep_legacy_fingerprints,
    _local_server_artifacts,
    _plan,
    _read_manifest,
    _resolve_all,
    _resolve_versions,
    preview_lines,
    resolved_sources,
)
from .ownership import DeploymentIndex, Holder
from .properties import MODEL
from .sources import content_identity

USER_INPUTS = (*MODEL.input_names(), "owner")
CHECK_FILLED = (
    "source_identities",
    "manifest",
    "model_name",
    "fingerprints",
    "versions",
    "plan",
    "predecessor",
    "local_server_artifacts",
    "resolved_sources",
)
INPUT_KEYS = USER_INPUTS + CHECK_FILLED
REPLACING_INPUTS = ("versions", "owner", *MODEL.changing("replace"))
NOT_COMPARED = ("predecessor", "plan")
"""``predecessor`` (the instance a replacement replaces, see :mod:`.ownership`) is bookkeeping;
``plan`` only describes the change ``versions`` makes. ``component_version`` is compared but
never replaces: pinning the resolved version, or omitting it again, is an update that only
writes state (``versions`` decides what is published), so the state always holds the
program's inputs and a later change shows no stale pin."""
STATE_ONLY = (
    "owner",
    "source_identities",
    "manifest",
    "fingerprints",
    "predecessor",
    "checked_versions",
    "resources",
)
"""Kept in state as ``__<key>``, so a preview's diff never shows them (see ``_host.hook``)."""
DEFAULTS: JSONDict = MODEL.defaults()


_REPLACED = ownership.ReplacedOlds()
"""This process's memo of the checks a replacement's re-check needs (see the class)."""


class DdaModelComponentProvider(AwsResourceProvider):
    """The dynamic provider behind :class:`DdaModelComponent`. Never rename or move it."""

    STATE_ONLY = STATE_ONLY

    # check ---------------------------------------------------------------------------------

    @hook
    def check(self, olds: JSONDict, news: JSONDict) -> CheckResult:
        first_look = bool(olds)  # not the engine's re-check of a replacement
        olds = _REPLACED.of(olds, news)
        inputs = dict(news)
        for key, default in DEFAULTS.items():
            if inputs.get(key) is None:
                inputs[key] = default
        try:
            self._check(olds, inputs)
            if first_look and is_known(inputs.get("versions")):
                for line in preview_lines(olds, inputs):
                    progress(line, keep=True)
        except InputError as exc:
            return CheckResult(inputs, [CheckFailure(exc.field, str(exc))])
        except DdaError as exc:
            return CheckResult(inputs, [CheckFailure("", str(exc))])
        return CheckResult(inputs, [])

    def _check(self, olds: JSONDict, inputs: JSONDict) -> None:
        if not all(is_known(inputs.get(k)) for k in USER_INPUTS):
            # A preview with values computed by other resources: everything is checked at up.
            inputs.update(dict.fromkeys(CHECK_FILLED, UNKNOWN))
            return
        model = ModelInputs.parse(inputs)
        names = model.naming()
        clients = self.clients(inputs)
        check_region(clients.region)
        if not olds or any(
            olds.get(k) != inputs.get(k) for k in ("artifact_bucket", "region", "role_arn")
        ):
            artifacts.check_bucket(clients.s3, model.artifact_bucket, clients.region)
        uris = {TRAINED_KEY: model.trained_model_uri} | {
            f"compiled_models.{t}": uri for t, uri in model.compiled_models.items()
        }
        sources = _resolve_all(uris, clients)
        identities = {key: source.identity for key, source in sources.items()}
        inputs["source_identities"] = identities
        inputs["resolved_sources"] = resolved_sources(identities)
        old_ids = _contents(olds.get("source_identities"))
        if (
            old_ids.get(TRAINED_KEY) == content_identity(identities[TRAINED_KEY])
            and olds.get("manifest")
            and olds.get("relax_device_checks") == inputs.get("relax_device_checks")
        ):
            inputs["manifest"], inputs["model_name"] = olds["manifest"], olds["model_name"]
        else:
            manifest = _read_manifest(model, sources[TRAINED_KEY], clients)
            inputs["manifest"], inputs["model_name"] = manifest.manifest, manifest.model_name
        inputs["fingerprints"] = {
            target: _fingerprint(model, naming, inputs["manifest"], _contents(identities))
            for target, naming in names.items()
        }
        _keep_legacy_fingerprints(olds, inputs, model, names)
        inputs["versions"] = _resolve_versions(olds, inputs, model, names, clients)
        inputs["local_server_artifacts"] = _local_server_artifacts(olds, inputs, clients)
        inputs["plan"] = _plan(olds, inputs)
        # The instance this one replaces (see ownership); unchanged when nothing replaces it.
        old_instance = ownership.instance_of(olds)
        replaced = old_instance != ownership.instance_of(inputs)
        inputs["predecessor"] = old_instance if replaced else (olds.get("predecessor") or "")

    # diff ----------------------------------------------------------------------------------

    @hook
    def diff(self, _id: str, olds: JSONDict, news: JSONDict) -> DiffResult:
        old_inputs, news = _compared(_inputs_of(olds)), _compared(news)
        changed = [
            k for k in INPUT_KEYS if k not in NOT_COMPARED and old_inputs.get(k) != news.get(k)
        ]
        replaces = [k for k in changed if k in REPLACING_INPUTS]
        owner = str(news.get("owner") or "")
        _REPLACED.diffed(owner, replaces=bool(replaces))  # the engine's re-check comes next
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=False)

    # create --------------------------------------------------------------------------------

    @hook
    def create(self, props: JSONDict) -> CreateResult:
        _REPLACED.forget(str(props.get("owner") or ""))
        model = ModelInputs.parse(props)
        clients = self.clients(props)
        holder = Holder(model.owner, ownership.instance_of(props), props.get("predecessor") or "")
        clients.s3  # noqa: B018 - create both clients before the threads share them
        clients.greengrass  # noqa: B018
        targets = {
            t: _Target(naming, props["fingerprints"][t], props["versions"][t]["component_version"])
            for t, naming in model.naming().items()
        }
        with tempfile.TemporaryDirectory(prefix="pulumi-dda-") as work:
            run = _Create(model, props, clients, holder, Path(work))
            try:
                fan_out(targets, lambda _t, target: run.publish(target))
                run.settle(list(targets.values()))
            except BaseException:
                run.undo(list(targets.values()))
                raise
            run.sweep(list(targets.values()))
        versions = {t: r.version for t, r in targets.items()}
        shown = set(versions.values())
        id_ = f"{model.component_name}@" + (
            shown.pop() if len(shown) == 1 else ",".join(f"{t}={v}" for t, v in versions.items())
        )
        outs = {
            **{k: props.get(k) for k in INPUT_KEYS},
            "checked_versions": props["versions"],
            "versions": {t: r.version_entry() for t, r in targets.items()},
            "plan": props["plan"],
            "components": {t: r.output() for t, r in targets.items()},
            "resources": {t: r.state() for t, r in targets.items()},
        }
        return CreateResult(id_, outs)

    # update / read / delete ----------------------------------------------------------------

    @hook
    def update(self, _id: str, olds: JSONDict, news: JSONDict) -> UpdateResult:
        model = ModelInputs.parse(news)
        old_tags = dict(olds.get("tags") or {})
        if old_tags != model.tags:
            gg = self.clients(olds).greengrass
            for state in (olds.get("resources") or {}).values():
                if state.get("created"):
                    greengrass.set_tags(gg, state["arn"], old_tags, model.tags)
        return UpdateResult(_updated(olds, news))

    @hook
    def planned_update(self, _id: str, olds: JSONDict, news: JSONDict) -> UpdateResult:
        """What :meth:`update` will return, for a preview (the ``dda`` plugin's provider
        previews): every version stays, so every output is known."""
        return UpdateResult(_updated(olds, news))

    @hook
    def read(self, id_: str, props: JSONDict) -> ReadResult:
        gg = self.clients(props).greengrass
        outs = {k: v for k, v in props.items() if not k.startswith("__")}
        for state in (props.get("resources") or {}).values():
            found = greengrass.find_component_version(gg, state["arn"])
            status = (found or {}).get("status", {}).get("componentState")
            if found is None or status == ownership.FAILED:
                why = "no longer exists" if found is None else "is FAILED"
                progress(f"{state['arn']} {why}; the next up publishes it again", keep=True)
                return ReadResult("", {})
            if state.get("created"):
                found_tags = greengrass.user_tags(greengrass.get_tags(gg, state["arn"]))
                if found_tags != props.get("tags"):
                    outs["tags"] = found_tags  # drift on any version shows; the next up re-tags
        return ReadResult(id_, outs, _inputs_of(outs))

    @hook
    def delete(self, _id: str, props: JSONDict) -> None:
        clients = self.clients(props)
        gg = clients.greengrass
        holder = Holder(str(props.get("owner") or ""), ownership.instance_of(_inputs_of(props)))
        deployments = DeploymentIndex(gg)
        states = [s for s in (props.get("resources") or {}).values() if s.get("arn")]
        uris = {str(s["uri"]) for s in states if s.get("uri")}
        for state in states:
            outcome = ownership.release(gg, state["arn"], holder, deployments)
            progress(f"{state['arn']}: {outcome}", keep=True)
        components = {arns.component_of(s["arn"]) for s in states}
        uris |= ownership.sweep(gg, holder, deployments, components, sweep_dead=False, say=_keep)
        _release_artifacts(clients, uris)


def _updated(olds: JSONDict, news: JSONDict) -> JSONDict:
    """An update's outputs: the old ones with the new inputs (an update keeps every version)."""
    outs = {k: v for k, v in olds.items() if not k.startswith("__")}
    outs.update({k: news.get(k) for k in INPUT_KEYS if k != "versions"})
    return outs


def _inputs_of(outs: JSONDict) -> JSONDict:
    """The checked inputs a state's outputs were created from."""
    inputs = {k: outs.get(k) for k in INPUT_KEYS}
    if outs.get("checked_versions") is not None:
        inputs["versions"] = outs["checked_versions"]
    return inputs
