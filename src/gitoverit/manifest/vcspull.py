"""vcspull's YAML and JSON manifests, read as they are (see the package docs)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from gitoverit.manifest.entries import ManifestError
from gitoverit.manifest.reader import Reader

Lines = dict[tuple[str, ...], int]
Repeats = list[tuple[tuple[str, ...], int]]


def _yaml_document(file: Path, text: str) -> tuple[Any, Lines, Repeats]:
    """The YAML document in *text*, the line of each key in it (four levels down), and
    each key given again. A workspace folder given twice is read as one, its repos
    merged, as vcspull does; any other key given twice takes its later value, as YAML
    loaders (vcspull's too) do."""
    loader = yaml.SafeLoader(text)
    lines: Lines = {}
    repeats: Repeats = []
    try:
        node = loader.get_single_node()
        if node is None:
            return None, lines, repeats
        if not isinstance(node, yaml.MappingNode):
            return loader.construct_document(node), lines, repeats
        _yaml_lines(node, (), lines, repeats, depth=4)
        data: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            value = loader.construct_object(value_node, deep=True)
            if isinstance(data.get(key), dict) and isinstance(value, dict):
                data[key].update(value)
            else:
                data[key] = value
        return data, lines, repeats
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        detail = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise ManifestError(f"invalid YAML: {detail or exc}", file=file, line=line) from exc
    except yaml.YAMLError as exc:
        raise ManifestError(f"invalid YAML: {exc}", file=file) from exc
    finally:
        loader.dispose()


def _yaml_lines(
    node: yaml.MappingNode,
    prefix: tuple[str, ...],
    lines: Lines,
    repeats: Repeats,
    depth: int,
) -> None:
    """Record key lines of *node* (and of its mappings, *depth* levels down) and repeats."""
    seen: set[str] = set()
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            continue
        key = str(key_node.value)
        line = key_node.start_mark.line + 1
        if key in seen and key != "<<":
            repeats.append(((*prefix, key), line))
        seen.add(key)
        lines.setdefault((*prefix, key), line)
        if depth > 1 and isinstance(value_node, yaml.MappingNode):
            _yaml_lines(value_node, (*prefix, key), lines, repeats, depth - 1)


def read_yaml(reader: Reader, text: str) -> None:
    """Read vcspull YAML *text* into *reader*."""
    data, lines, repeats = _yaml_document(reader.file, text)
    for parts, line in repeats:
        if len(parts) == 1:
            reader.warn(f"workspace {parts[0]!r} is given again; its repos are merged", line)
        else:
            reader.warn(f"{' / '.join(parts)}: given again; the later one is used", line)
    _read_vcspull(reader, data, lines)


def read_json(reader: Reader, text: str) -> None:
    """Read vcspull JSON *text* into *reader*; a key given twice is an error."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in items:
            if key in result:
                raise ManifestError(f"duplicate key {key!r}", file=reader.file)
            result[key] = value
        return result

    try:
        data = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        raise ManifestError(
            f"invalid JSON: {exc.msg} (column {exc.colno})", file=reader.file, line=exc.lineno
        ) from exc
    except ManifestError as exc:
        repeats: Repeats = []
        _json_lines(text, repeats)
        if repeats:
            # JSON has no agreed meaning for a key given twice: the file is refused.
            parts, line = repeats[0]
            raise ManifestError(
                f"duplicate key {parts[-1]!r}", file=reader.file, line=line
            ) from exc
        raise
    _read_vcspull(reader, data, _json_lines(text, []))


def _json_lines(text: str, repeats: Repeats) -> dict[tuple[str, ...], int]:
    """The line of each folder and repo key in JSON *text*, found by reading it as the
    YAML that JSON nearly always also is (none when it is not); each key given twice
    goes to *repeats*."""
    lines: dict[tuple[str, ...], int] = {}
    # A tab is only ever a blank in valid JSON (in a string it is written \t), but YAML
    # refuses some; lines stay where they are.
    loader = yaml.SafeLoader(text.replace("\t", " "))
    try:
        node = loader.get_single_node()
        if isinstance(node, yaml.MappingNode):
            _yaml_lines(node, (), lines, repeats, depth=4)
    except yaml.YAMLError:
        return {}
    finally:
        loader.dispose()
    return lines


def _read_vcspull(reader: Reader, data: Any, lines: dict[tuple[str, ...], int]) -> None:
    if data is None:
        return
    if not isinstance(data, Mapping):
        raise reader.error(
            "expected a mapping of workspace folders to repositories (vcspull format)", None
        )

    lines.update({("~", *k[1:]): v for k, v in lines.items() if k[0] in ("~", "null")})

    def line_of(parts: tuple[str, ...]) -> int | None:
        for size in range(len(parts), 0, -1):
            if parts[:size] in lines:
                return lines[parts[:size]]
        return None

    reader.groups(data, line_of)
