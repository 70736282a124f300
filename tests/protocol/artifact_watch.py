"""A watcher thread for race tests: no DEPLOYABLE model version may miss its artifact."""

from __future__ import annotations

import json
import threading
from typing import Any

from pulumi_dda.greengrass import stored_artifact


class ArtifactWatcher:
    """Looks, until stopped, for a DEPLOYABLE model version whose artifact is not in S3."""

    def __init__(self, gg: Any, s3: Any) -> None:
        """``gg`` and ``s3``: clients of the watcher's own (not the racing code's)."""
        self.gg, self.s3 = gg, s3
        self.missing: list[str] = []
        self.errors: list[str] = []
        self.looks = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def __enter__(self) -> ArtifactWatcher:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def check(self) -> None:
        """It looked at least once, found nothing missing, and never failed itself."""
        assert (self.missing, self.errors) == ([], [])
        assert self.looks > 0

    def look_once(self) -> None:
        """One look at every model version (also usable without the thread)."""
        for arn in self._versions():
            self._look(arn)
        self.looks += 1

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.look_once()
            except Exception as exc:  # reported by check()
                self.errors.append(repr(exc))
                return

    def _versions(self) -> list[str]:
        found = []
        for component in self.gg.list_components(scope="PRIVATE")["components"]:
            if component["componentName"].startswith("model-"):
                try:
                    versions = self.gg.list_component_versions(arn=component["arn"])
                except self.gg.exceptions.ResourceNotFoundException:
                    continue  # deleted since the listing
                found += [v["arn"] for v in versions["componentVersions"]]
        return found

    def _deployable(self, arn: str) -> bool:
        try:
            state = self.gg.describe_component(arn=arn)["status"]["componentState"]
        except self.gg.exceptions.ResourceNotFoundException:
            return False
        return bool(state == "DEPLOYABLE")

    def _look(self, arn: str) -> None:
        if not self._deployable(arn):
            return
        try:
            recipe = self.gg.get_component(arn=arn, recipeOutputFormat="JSON")["recipe"]
        except self.gg.exceptions.ResourceNotFoundException:
            return
        uri = stored_artifact(json.loads(recipe))[0]
        bucket, key = uri.removeprefix("s3://").split("/", 1)
        try:
            self.s3.head_object(Bucket=bucket, Key=key)
        except self.s3.exceptions.ClientError:
            if self._deployable(arn):  # still there after the look: devices would fail
                self.missing.append(f"{arn} is DEPLOYABLE, its artifact {uri} is missing")
