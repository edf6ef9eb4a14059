"""vcspull's YAML and JSON manifests, read as they are (see the package docs)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from gitoverit.manifest.entries import ManifestError
from gitoverit.manifest.reader import Reader


def _yaml_document(file: Path, text: str) -> tuple[Any, dict[tuple[str, ...], int]]:
    """The YAML document in *text* and the line of each folder and repo key in it."""
    loader = yaml.SafeLoader(text)
    lines: dict[tuple[str, ...], int] = {}
    try:
        node = loader.get_single_node()
        if node is None:
            return None, lines
        if isinstance(node, yaml.MappingNode):
            _yaml_lines(file, node, (), lines, depth=2)
        return loader.construct_document(node), lines
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
    file: Path,
    node: yaml.MappingNode,
    prefix: tuple[str, ...],
    lines: dict[tuple[str, ...], int],
    depth: int,
) -> None:
    """Record key lines of *node* (and of its mappings, *depth* levels down); reject repeats."""
    seen: set[str] = set()
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            continue
        key = str(key_node.value)
        line = key_node.start_mark.line + 1
        if key in seen and key != "<<":
            raise ManifestError(f"duplicate key {key!r}", file=file, line=line)
        seen.add(key)
        lines.setdefault((*prefix, key), line)
        if depth > 1 and isinstance(value_node, yaml.MappingNode):
            _yaml_lines(file, value_node, (*prefix, key), lines, depth - 1)


def read_yaml(reader: Reader, text: str) -> None:
    """Read vcspull YAML *text* into *reader*."""
    data, lines = _yaml_document(reader.file, text)
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
    except ManifestError:
        _json_lines(reader.file, text)  # raises the same error, at its line if it finds it
        raise
    _read_vcspull(reader, data, _json_lines(reader.file, text))


def _json_lines(file: Path, text: str) -> dict[tuple[str, ...], int]:
    """The line of each folder and repo key in JSON *text*, found by reading it as the
    YAML that JSON nearly always also is (none when it is not). Raises
    :class:`ManifestError`, at its line, for a folder or repo key given twice."""
    lines: dict[tuple[str, ...], int] = {}
    # A tab is only ever a blank in valid JSON (in a string it is written \t), but YAML
    # refuses some; lines stay where they are.
    loader = yaml.SafeLoader(text.replace("\t", " "))
    try:
        node = loader.get_single_node()
        if isinstance(node, yaml.MappingNode):
            _yaml_lines(file, node, (), lines, depth=2)
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

    def line_of(parts: tuple[str, ...]) -> int | None:
        return lines.get(parts, lines.get(parts[:1]))

    reader.groups(data, line_of)
