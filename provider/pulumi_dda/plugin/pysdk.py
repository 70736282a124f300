"""Write :mod:`pulumi_dda.resources` (the Python resource classes) from the declaration tables.

The classes are generated, not written by hand, so that their keyword arguments, types,
defaults, docstrings and typed outputs are those of :mod:`pulumi_dda.properties` by
construction; ``python -m pulumi_dda.plugin --python > provider/pulumi_dda/resources.py``
regenerates them and a unit test fails when the file is out of step.

What is generated, in the shape pulumi-aws users know: an enum class per enum type (``str``
values, so a plain string works as well); per object type an input ``TypedDict`` ``…Args``
(snake_case keys, which the SDK renames; a plain dict is accepted as before) and an output
``TypedDict`` for type checkers (at run time outputs stay the plain dicts with snake_case keys
they were: the name is ``dict`` then); per resource a ``…Args`` dataclass and a class whose
outputs are typed properties, with ``:param`` docstrings.
"""

from __future__ import annotations

import textwrap

from pulumi_dda.properties import (
    DEPLOYMENT,
    ENUM_TYPES,
    MODEL,
    OBJECT_TYPES,
    AnyValue,
    EnumOf,
    Kind,
    ListOf,
    MapOf,
    ObjectType,
    Prop,
    Ref,
    ResourceType,
    Scalar,
)

CLASSES = ((MODEL, "DdaModelComponent"), (DEPLOYMENT, "GreengrassDeployment"))
TRIPLE = '"""'
_SCALARS = {"string": "str", "boolean": "bool", "number": "float", "integer": "int"}


def _enum_name(enum: EnumOf) -> str:
    return enum.token.rsplit(":", 1)[-1]


def _python_type(kind: Kind, *, inputs: bool) -> str:
    def wrap(text: str) -> str:
        return f"pulumi.Input[{text}]" if inputs else text

    if isinstance(kind, Scalar):
        return wrap(_SCALARS[kind.name])
    if isinstance(kind, AnyValue):
        return "Any"
    if isinstance(kind, EnumOf):
        return wrap(f"str | {_enum_name(kind)}" if inputs else _enum_name(kind))
    if isinstance(kind, Ref):
        name = kind.object_type.name
        return wrap(f"{name}Args" if inputs else name)
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


def _param_doc(props: tuple[Prop, ...], indent: str, head: list[str]) -> str:
    """A docstring of ``:param`` lines."""
    lines = [*head]
    for prop in props:
        lines.append(f":param {prop.snake}: {prop.described()}")
    wrapped = []
    for line in lines:
        wrapped.append(
            textwrap.fill(
                line.replace(TRIPLE, "'''"),
                width=96,
                initial_indent=indent,
                subsequent_indent=indent + "    ",
                break_on_hyphens=False,
            )
        )
    return f"{indent}{TRIPLE}\n" + "\n".join(wrapped) + f"\n{indent}{TRIPLE}\n"


def _enum(enum: EnumOf) -> str:
    out = [f"class {_enum_name(enum)}(enum.StrEnum):\n", _doc(enum.description, "    "), "\n"]
    for value in enum.values:
        member = value.value.upper().replace("-", "_")
        out.append(f'    {member} = "{value.value}"\n')
        out.append(_doc(value.description, "    "))
    return "".join(out)


def _input_type(obj: ObjectType) -> str:
    out = [f"class {obj.name}Args(TypedDict, total=False):\n", _doc(obj.description, "    ")]
    out.append("\n")
    for prop in obj.props:
        kind = _python_type(prop.kind, inputs=True)
        out.append(f"    {prop.snake}: {f'Required[{kind}]' if prop.required else kind}\n")
        out.append(_doc(prop.described(), "    "))
    return "".join(out)


def _output_type(obj: ObjectType) -> str:
    """An output's shape for type checkers: a ``TypedDict`` with the snake_case keys the values
    have. At run time the name is ``dict``, so the SDK converts nothing (outputs stay the plain
    dicts they were, and export as such)."""
    out = [f"    class {obj.name}(TypedDict):\n", _doc(obj.description, "        "), "\n"]
    for prop in obj.props:
        kind = _python_type(prop.kind, inputs=False)
        out.append(f"        {prop.snake}: {kind if prop.required else f'NotRequired[{kind}]'}\n")
        out.append(_doc(prop.described(), "        "))
    return "".join(out)


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
        out.append(_doc(prop.described(), "    "))
    return "".join(out)


def _class(resource: ResourceType, name: str) -> str:
    required = [p for p in resource.inputs if p.required]
    optional = [p for p in resource.inputs if not p.required]
    table = "MODEL" if resource is MODEL else "DEPLOYMENT"
    out = [f"class {name}(pulumi.CustomResource):\n", _doc(resource.description, "    ")]
    out.append("\n    @overload\n    def __init__(\n        self,\n        resource_name: str,\n")
    out.append(f"        args: {name}Args,\n")
    out.append("        opts: pulumi.ResourceOptions | None = None,\n    ) -> None:\n")
    out.append(
        _param_doc(
            (),
            "        ",
            [
                f"Declare a {name} from one :class:`{name}Args` value.",
                "",
                ":param resource_name: The name of the resource.",
                ":param args: The inputs.",
                ":param opts: Options of the resource.",
            ],
        )
    )
    out.append("\n    @overload\n    def __init__(\n        self,\n        resource_name: str,\n")
    out.append("        *,\n")
    out += [_param(p) for p in required + optional]
    out.append("        opts: pulumi.ResourceOptions | None = None,\n    ) -> None:\n")
    out.append(
        _param_doc(
            tuple(required + optional),
            "        ",
            [
                f"Declare a {name} from keyword arguments.",
                "",
                ":param resource_name: The name of the resource.",
                ":param opts: Options of the resource.",
            ],
        )
    )
    out.append("\n    def __init__(\n        self,\n        resource_name: str,\n")
    out.append(f"        args: {name}Args | None = None,\n")
    out.append("        opts: pulumi.ResourceOptions | None = None,\n")
    out.append("        **inputs: Any,\n    ) -> None:\n")
    out.append("        values = vars(args) if args is not None else inputs\n")
    out.append(f"        register(self, {table}, resource_name, dict(values), opts)\n")
    for prop in resource.inputs + resource.outputs:
        kind = _python_type(prop.kind, inputs=False)
        out.append(f'\n    @property\n    @pulumi.getter(name="{prop.name}")\n')
        out.append(f"    def {prop.snake}(self) -> pulumi.Output[{kind}]:\n")
        out.append(_doc(prop.described(), "        "))
        out.append(f'        return cast("pulumi.Output[{kind}]", ')
        out.append(f'pulumi.get(self, "{prop.snake}"))\n')
    out.append("\n    def translate_input_property(self, prop: str) -> str:\n")
    out.append("        return input_name(prop)\n")
    out.append("\n    def translate_output_property(self, prop: str) -> str:\n")
    out.append("        return output_name(prop)\n")
    return "".join(out)


def _reachable(kinds: list[Kind]) -> list[ObjectType]:
    found: list[ObjectType] = []
    while kinds:
        kind = kinds.pop()
        if isinstance(kind, MapOf):
            kinds.append(kind.values)
        elif isinstance(kind, ListOf):
            kinds.append(kind.items)
        elif isinstance(kind, Ref) and kind.object_type not in found:
            found.append(kind.object_type)
            kinds += [p.kind for p in kind.object_type.props]
    return [t for t in OBJECT_TYPES if t in found]  # declaration order: what a type uses first


def python_module() -> str:
    """The text of :mod:`pulumi_dda.resources`."""
    inputs = _reachable([p.kind for r, _ in CLASSES for p in r.inputs])
    outputs = _reachable([p.kind for r, _ in CLASSES for p in r.inputs + r.outputs])
    names = [_enum_name(e) for e in ENUM_TYPES] + [f"{t.name}Args" for t in inputs]
    names += [t.name for t in outputs]
    names += [n for _, c in CLASSES for n in (c, f"{c}Args")]
    head = (
        '"""The Pulumi resources of pulumi-dda for Python programs, served by the ``dda`` '
        "provider plugin.\n\nGenerated from :mod:`pulumi_dda.properties` by ``python -m\n"
        "pulumi_dda.plugin --python``; do not edit.\n"
        '"""\n\n'
        "from __future__ import annotations\n\n"
        "import enum\n"
        "from collections.abc import Mapping, Sequence\n"
        "from dataclasses import dataclass\n"
        "from typing import (\n    TYPE_CHECKING,\n    Any,\n    NotRequired,\n    Required,\n"
        "    TypedDict,\n    cast,\n    overload,\n)\n\n"
        "import pulumi\n\n"
        "from ._register import input_name, output_name, register\n"
        "from .properties import DEPLOYMENT, MODEL\n\n"
        "__all__ = [\n" + "".join(f'    "{n}",\n' for n in sorted(names)) + "]\n"
    )
    parts = [_enum(e) for e in ENUM_TYPES]
    parts += [_input_type(t) for t in inputs]
    parts.append(
        "if TYPE_CHECKING:\n\n"
        + "\n\n".join(_output_type(t) for t in outputs)
        + "\nelse:\n"
        + "".join(f"    {t.name} = dict\n" for t in outputs)
    )
    parts += [_args(r, n) + "\n\n" + _class(r, n) for r, n in CLASSES]
    return head + "".join("\n\n" + part for part in parts)
