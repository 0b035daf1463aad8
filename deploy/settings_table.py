"""The README's configuration table, generated from the pydantic settings classes.

`python -m deploy.settings_table` prints a Markdown table (variable, default, description)
of every environment variable the services read; `--write README.md` replaces the table
between the `settings-table` markers and `--check README.md` fails when it is stale. The
settings modules are discovered (`services/common`, every `services/<name>/settings.py`,
`gateway/settings.py`), so a new service or field shows up without touching this file.

Shared infrastructure (`StorageSettings`, `CacheSettings`) is listed once, from its own
classes; the `storage`/`cache` fields nested in each service are not repeated under the
service's prefix.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import inspect
import pkgutil
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal, TypeGuard

from pydantic import AliasChoices, BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from deploy.readme_section import MarkedSection

START = "<!-- settings-table:start -->"
END = "<!-- settings-table:end -->"


@dataclass(frozen=True)
class EnvVar:
    name: str
    default: str
    description: str
    owner: type[BaseSettings]
    field: str  # dotted path of the field in `owner` (`batching.max_wait_ms` when nested)
    annotation: Any


def settings_modules() -> list[str]:
    """The shared settings first, then each service's, then the gateway's."""
    import services

    names = ["services.common.settings"]
    for info in sorted(pkgutil.iter_modules(services.__path__), key=lambda i: i.name):
        module = f"services.{info.name}.settings"
        if info.ispkg and info.name != "common" and importlib.util.find_spec(module) is not None:
            names.append(module)
    names.append("gateway.settings")
    return names


def settings_classes() -> list[type[BaseSettings]]:
    """Concrete settings classes: those defined in the settings modules that nothing subclasses.

    `ServiceSettings` is such a base: its fields are listed under each service's prefix.
    """
    found: list[type[BaseSettings]] = []
    for module_name in settings_modules():
        module = importlib.import_module(module_name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseSettings) and obj.__module__ == module_name:
                found.append(obj)
    return [cls for cls in found if not any(o is not cls and issubclass(o, cls) for o in found)]


def _is_settings(annotation: Any) -> bool:
    return inspect.isclass(annotation) and issubclass(annotation, BaseSettings)


def _is_model(annotation: Any) -> TypeGuard[type[BaseModel]]:
    return inspect.isclass(annotation) and issubclass(annotation, BaseModel)


def _env_name(prefix: str, name: str, field: FieldInfo) -> str:
    alias = field.validation_alias or field.alias
    if isinstance(alias, AliasChoices):
        alias = next((c for c in alias.choices if isinstance(c, str)), None)
    if isinstance(alias, str):
        return alias.upper()
    return f"{prefix}{name}".upper()


def _choices(annotation: Any) -> list[str]:
    """The allowed values of a `Literal[...]` (or `Literal[...] | None`) annotation."""
    if typing.get_origin(annotation) is Literal:
        return [str(a) for a in typing.get_args(annotation)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [c for arg in typing.get_args(annotation) for c in _choices(arg)]
    return []


def render_default(value: Any) -> str:
    """A default as one would write it in the environment (lists comma-separated)."""
    if value is None:
        return "unset"
    if isinstance(value, list | tuple | set | frozenset):
        return f"`{','.join(_plain(v) for v in value)}`" if value else "empty"
    return f"`{_plain(value)}`"


def _plain(value: Any) -> str:
    # Defaults are laptop defaults (e.g. MinIO's `minioadmin`), never real secrets: show them.
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def _fields(
    model: type[BaseModel], prefix: str, owner: type[BaseSettings], path: str = ""
) -> Iterator[EnvVar]:
    delimiter = owner.model_config.get("env_nested_delimiter") or ""
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if _is_settings(annotation):
            continue  # shared infrastructure, listed from its own class
        if _is_model(annotation) and delimiter:
            yield from _fields(annotation, f"{prefix}{name}{delimiter}", owner, f"{path}{name}.")
            continue
        description = (field.description or "").replace("|", "\\|")
        if choices := _choices(annotation):
            description += f" (one of {', '.join(f'`{c}`' for c in choices)})"
        default = field.get_default(call_default_factory=True)
        yield EnvVar(
            _env_name(prefix, name, field),
            render_default(default),
            description,
            owner,
            path + name,
            annotation,
        )


def env_vars(classes: list[type[BaseSettings]] | None = None) -> list[EnvVar]:
    """Every environment variable the settings classes read, in table order."""
    rows: list[EnvVar] = []
    for cls in classes if classes is not None else settings_classes():
        rows.extend(_fields(cls, cls.model_config.get("env_prefix") or "", cls))
    return rows


def markdown_table(rows: list[EnvVar] | None = None) -> str:
    lines = ["| variable | default | description |", "| --- | --- | --- |"]
    for row in rows if rows is not None else env_vars():
        lines.append(f"| `{row.name}` | {row.default} | {row.description} |")
    return "\n".join(lines) + "\n"


SECTION = MarkedSection(START, END)
readme_section = SECTION.read
replace_section = SECTION.replace


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    SECTION.add_arguments(parser, "table")
    args = parser.parse_args(argv)
    target = args.check or args.write
    stale = f"configuration table is stale; run: python -m deploy.settings_table --write {target}"
    return SECTION.run(args, markdown_table(), stale)


if __name__ == "__main__":
    raise SystemExit(main())
