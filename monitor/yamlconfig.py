"""Strict YAML configuration files: read into pydantic models, every problem reported with
the file, the line and the field (`feeds.yaml:23: sources[3] (id=gov).interval: …`).

Used for feeds.yaml and for every later config file (deadline policy, alert routes), so all
of them fail the same readable way.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from monitor.errors import ConfigError

M = TypeVar("M", bound=BaseModel)
Lines = dict[tuple, int]
Check = Callable[[Path, dict, Lines], list[str]]


def load_yaml_model(path: Path, model: type[M], checks: tuple[Check, ...] = ()) -> M:
    """Read `path` into `model`; raise ConfigError listing every problem at once.

    `checks` see the raw data (and line numbers) so that, e.g., duplicate ids are reported
    even when other fields are wrong."""
    data, lines = read_yaml(path)
    problems = [p for check in checks for p in check(path, data, lines)]
    try:
        result = model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe(path, exc, lines, data, model) + problems) from exc
    if problems:
        raise ConfigError(problems)
    return result


def read_yaml(path: Path) -> tuple[dict, Lines]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read the file: {exc.strerror}"]) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"]) from exc
    node, data = _parse(path, text)
    if not isinstance(data, dict):
        raise ConfigError([f"{path}:1: expected a mapping of settings at the top"])
    return data, line_index(node)


MAX_DEPTH = 64  # the deepest real config nests 6 levels


class Refused(yaml.MarkedYAMLError):
    """Valid YAML that config files do not accept (aliases, absurd nesting)."""


class _ConfigLoader(yaml.SafeLoader):
    """SafeLoader without aliases and with a depth limit. Nine lines of nested aliases
    ("billion laughs") expand to a tree of 9⁹ nodes: minutes of CPU and gigabytes when walked
    or validated. Config files have no need for aliases, so they are refused where they
    appear, before anything expands. The composer recurses once per level, so thousands of
    nested brackets would end in a RecursionError."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            self._refuse(event, f"YAML aliases (*{event.anchor}) are not allowed in "
                                "configuration files; write the value out")
        if self._depth >= MAX_DEPTH:
            self._refuse(event, f"nested more than {MAX_DEPTH} levels deep")
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    @staticmethod
    def _refuse(event: yaml.Event, problem: str) -> None:
        raise Refused(None, None, problem, event.start_mark)


def safe_load(text: str) -> Any:
    """yaml.safe_load without aliases (for YAML read outside `load_yaml_model`)."""
    return yaml.load(text, Loader=_ConfigLoader)  # noqa: S506 (a SafeLoader subclass)


def _parse(path: Path, text: str) -> tuple[yaml.Node | None, Any]:
    """Compose once (the tree gives line numbers), then construct from the same tree."""
    loader = _ConfigLoader(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    except Refused as exc:
        raise ConfigError([f"{path}:{exc.problem_mark.line + 1}: {exc.problem}"]) from exc
    except yaml.MarkedYAMLError as exc:
        raise ConfigError([_yaml_problem(path, exc)]) from exc
    finally:
        loader.dispose()


def _yaml_problem(path: Path, exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark
    line = f":{mark.line + 1}" if mark else ""
    context = ""
    if exc.context and exc.context_mark:
        context = f" ({exc.context} that starts on line {exc.context_mark.line + 1})"
    return f"{path}{line}: not valid YAML: {exc.problem}{context}"


def duplicate_ids(list_key: str, id_key: str = "id") -> Check:
    """A check that every entry of `data[list_key]` has a distinct `id_key`."""

    def check(path: Path, data: dict, lines: Lines) -> list[str]:
        first: dict[str, int] = {}
        problems = []
        entries = data.get(list_key)
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            value = entry.get(id_key) if isinstance(entry, dict) else None
            if not isinstance(value, str):
                continue
            line = lines.get((list_key, i, id_key), 1)
            if value in first:
                problems.append(f"{path}:{line}: {list_key}[{i}] ({id_key}={value}).{id_key}: "
                                f"duplicate {id_key}, first used on line {first[value]}")
            else:
                first[value] = line
        return problems

    return check


def line_index(node: yaml.Node | None, path: tuple = ()) -> Lines:
    """Map every path in the YAML tree (('sources', 2, 'url')) to its 1-based line."""
    index: Lines = {}
    if node is None:
        return index
    index[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*path, key_node.value)
            index.update(line_index(value_node, child))
            index[child] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            index.update(line_index(item, (*path, i)))
    return index


def describe(path: Path, exc: ValidationError, lines: Lines, data: dict,
             model: type[BaseModel]) -> list[str]:
    # Errors from the branches of one union (e.g. a list of channels, or "any") share a
    # place: they become one line whose messages are joined with "or".
    places: dict[tuple[int, str], list[str]] = {}
    for error in exc.errors():
        loc = tuple(part for part in error["loc"] if not _is_type_tag(part))
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            allowed = _model_at(model, loc[:-1])
            names = ", ".join(allowed.model_fields) if allowed else "see the documentation"
            message = f"unknown key (allowed: {names})"
        messages = places.setdefault((_nearest_line(loc, lines), _field_name(loc, data)), [])
        if message not in messages:
            messages.append(message)
    return [f"{path}:{line}: {name}: {' — or — '.join(messages)}"
            for (line, name), messages in places.items()]


def _is_type_tag(part: Any) -> bool:
    """pydantic names union branches in the location ('literal['any']', 'tuple[…]',
    'function-after[…]'); field names never contain brackets."""
    return isinstance(part, str) and ("[" in part or part.startswith(("function-",
                                                                     "constrained-")))


def _nearest_line(loc: tuple, lines: Lines) -> int:
    # A mapping key such as `2031:` is the string '2031' in the YAML tree and the int 2031 in
    # pydantic's location; a list index is an int in both.
    keyed = tuple(str(p) if isinstance(p, int) else p for p in loc)
    for end in range(len(loc), -1, -1):
        for candidate in (loc[:end], keyed[:end]):
            if candidate in lines:
                return lines[candidate]
    return 1


def _field_name(loc: tuple, data: dict) -> str:
    """sources[3] (id=gov-cn).interval, so the operator finds the entry by its id too."""
    name = ""
    node: Any = data
    for part in loc:
        if isinstance(part, int):
            name += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            if isinstance(node, dict) and "id" in node:
                name += f" (id={node['id']})"
        else:
            name += f".{part}" if name else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return name or "file"


def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The model class found by following `loc` (field names; list indexes skipped)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(str(part))
        if field is None:
            return None
        current = _inner_model(field.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _inner_model(annotation: Any) -> Any:
    """list[Source] → Source; Selectors | None → Selectors; dict[str, Route] → Route."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _inner_model(typing.get_args(annotation)[0])
    if origin in (list, tuple, set, dict, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _inner_model(arg)
            if found is not None:
                return found
    return None
