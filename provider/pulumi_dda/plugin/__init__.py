"""``pulumi-resource-dda``: the model component and the deployment as a Pulumi provider plugin.

For programs in any language (Pulumi YAML, TypeScript, ...): :mod:`.schema` declares the
package's resources and types (camelCase, described, typed outputs), :mod:`.server` serves them
by calling the dynamic providers' hooks in this process. Run it with ``python -m
pulumi_dda.plugin`` (what ``provider/pulumi-resource-dda/__main__.py`` does when the engine
starts the plugin through the Python language host), or print its schema with ``python -m
pulumi_dda.plugin --schema``.
"""

from __future__ import annotations

import json
import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    """Serve the provider (the engine passes its address and logging flags: unused), or print
    the schema with ``--schema``, or the Python resource classes with ``--python``."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--schema"]:
        from .schema import package_schema

        sys.stdout.write(json.dumps(package_schema(), indent=2) + "\n")
        return
    if args[:1] == ["--python"]:
        from .pysdk import python_module

        sys.stdout.write(python_module())
        return
    from .server import serve

    engine = next((a for a in args if not a.startswith("-")), "")
    serve(engine)
