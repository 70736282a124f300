"""Write :mod:`pulumi_dda.resources` (the Python resource classes) from the declaration tables.

The classes are generated, not written by hand, so that their keyword arguments, types,
defaults, docstrings and typed outputs are those of :mod:`pulumi_dda.properties` by
construction; ``python -m pulumi_dda.plugin --python > provider/pulumi_dda/resources.py``
regenerates them and a unit test fails when the file is out of step.
"""

from __future__ import annotations

import textwrap

from pulumi_dda.properties import (
    DEPLOYMENT,
    MODEL,
    AnyValue,
    Kind,
    ListOf,
    MapOf,
    Prop,
    Ref,
    ResourceType,
    Scalar,
)

CLASSES = ((MODEL, "DdaModelComponent"), (DEPLOYMENT, "GreengrassDeployment"))
TRIPLE = '"""'
_SCALARS = {"string": "str", "boolean": "bool", "number": "float", "integer": "int"}


def _python_type(kind: Kind, *, inputs: bool) -> str:
    def wrap(text: str) -> str:
        return f"pulumi.Input[{text}]" if inputs else text

    if isinstance(kind, Scalar):
        return wrap(_SCALARS[kind.name])
    if isinstance(kind, AnyValue | Ref):
        return "Any"
    if isinstance(kind, MapOf):
        return wrap(f"Mapping[str, {_python_type(kind.values, inputs=inputs)}]")
    if isinstance(kind, ListOf):
        return wrap(f"Sequence[{_python_type(kind.items, inputs=inputs)}]")
    raise TypeError(kind)


def _doc(text: str, indent: str) -> str:
    body = textwrap.fill(
        text.replace(TRIPLE, "'''"),
        width=96,
        initial_indent=indent + TRIPLE,
        subsequent_indent=indent,
        break_on_hyphens=False,
    )
    return body + TRIPLE + "\n"


def _param(prop: Prop) -> str:
    kind = _python_type(prop.kind, inputs=True)
    return f"        {prop.snake}: {kind}" + ("" if prop.required else " | None = None") + ",\n"


def _args(resource: ResourceType, name: str) -> str:
    """``<Name>Args``: the inputs as one value (what pulumi-aws programs pass positionally)."""
    required = [p for p in resource.inputs if p.required]
    optional = [p for p in resource.inputs if not p.required]
    out = [
        "@dataclass\n",
        f"class {name}Args:\n",
        _doc(f"The inputs of :class:`{name}` (see its keyword arguments).", "    "),
        "\n",
    ]
    for prop in required + optional:
        out.append(_param(prop).replace("        ", "    ", 1).rstrip(",\n") + "\n")
        out.append(_doc(prop.description, "    "))
    return "".join(out)


def _class(resource: ResourceType, name: str) -> str:
    required = [p for p in resource.inputs if p.required]
    optional = [p for p in resource.inputs if not p.required]
    table = "MODEL" if resource is MODEL else "DEPLOYMENT"
    out = [f"class {name}(pulumi.CustomResource):\n", _doc(resource.description, "    "), "\n"]
    for prop in resource.inputs + resource.outputs:
        out.append(f"    {prop.snake}: pulumi.Output[{_python_type(prop.kind, inputs=False)}]\n")
        out.append(_doc(prop.description, "    "))
    out.append("\n    @overload\n    def __init__(\n        self,\n        resource_name: str,\n")
    out.append(f"        args: {name}Args,\n")
    out.append("        opts: pulumi.ResourceOptions | None = None,\n    ) -> None: ...\n")
    out.append("\n    @overload\n    def __init__(\n        self,\n        resource_name: str,\n")
    out.append("        *,\n")
    out += [_param(p) for p in required + optional]
    out.append("        opts: pulumi.ResourceOptions | None = None,\n    ) -> None: ...\n")
    out.append("\n    def __init__(\n        self,\n        resource_name: str,\n")
    out.append(f"        args: {name}Args | None = None,\n")
    out.append("        opts: pulumi.ResourceOptions | None = None,\n")
    out.append("        **inputs: Any,\n    ) -> None:\n")
    out.append("        values = vars(args) if args is not None else inputs\n")
    out.append(f"        register(self, {table}, resource_name, dict(values), opts)\n")
    out.append("\n    def translate_input_property(self, prop: str) -> str:\n")
    out.append("        return input_name(prop)\n")
    out.append("\n    def translate_output_property(self, prop: str) -> str:\n")
    out.append("        return output_name(prop)\n")
    return "".join(out)


def python_module() -> str:
    """The text of :mod:`pulumi_dda.resources`."""
    head = (
        '"""The Pulumi resources of pulumi-dda for Python programs, served by the ``dda`` '
        "provider plugin.\n\nGenerated from :mod:`pulumi_dda.properties` by ``python -m\n"
        "pulumi_dda.plugin --python``; do not edit.\n"
        '"""\n\n'
        "from __future__ import annotations\n\n"
        "from collections.abc import Mapping, Sequence\n"
        "from dataclasses import dataclass\n"
        "from typing import Any, overload\n\n"
        "import pulumi\n\n"
        "from ._register import input_name, output_name, register\n"
        "from .properties import DEPLOYMENT, MODEL\n\n"
        "__all__ = [\n"
        '    "DdaModelComponent",\n    "DdaModelComponentArgs",\n'
        '    "GreengrassDeployment",\n    "GreengrassDeploymentArgs",\n]\n'
    )
    return head + "".join("\n\n" + _args(r, n) + "\n\n" + _class(r, n) for r, n in CLASSES)
