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
import sys
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Literal, TypeGuard

from pydantic import AliasChoices, BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

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


def readme_section(text: str) -> str:
    """The text between the markers; a `ValueError` when they are missing or out of order."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the README has no {START} … {END} section")
    return text[start + len(START) : end].strip("\n") + "\n"


def replace_section(text: str, table: str) -> str:
    readme_section(text)  # validates the markers
    start, end = text.index(START) + len(START), text.index(END)
    return f"{text[:start]}\n{table}{text[end:]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", type=Path, metavar="README", help="replace the table between the markers")
    group.add_argument("--check", type=Path, metavar="README", help="exit 1 when the table is stale")
    args = parser.parse_args(argv)
    table = markdown_table()
    if args.write:
        args.write.write_text(replace_section(args.write.read_text(encoding="utf-8"), table), "utf-8")
    elif args.check:
        if readme_section(args.check.read_text(encoding="utf-8")) != table:
            print(
                f"{args.check}: configuration table is stale; run: python -m deploy.settings_table "
                f"--write {args.check}",
                file=sys.stderr,
            )
            return 1
    else:
        sys.stdout.write(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
