"""Reading model files: top-level keys, `extends` chains with `remove`, and `check` files."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from preemptcheck.errors import Code, Collector, did_you_mean
from preemptcheck.model.yamlnodes import Node, parse_yaml
from preemptcheck.source import SourceCache, Span

SECTIONS = ("params", "enums", "vars", "defs", "actions", "properties")
SCALARS = ("model", "doc", "cpus", "tasks", "deadlock", "symmetry")
MODEL_KEYS = (*SCALARS, *SECTIONS, "extends", "remove", "check")
CHECK_FILE_KEYS = ("doc", "defs", "properties")


@dataclass(frozen=True, slots=True)
class Entry:
    """One named entry of a section, with the entry it replaced (for inherited params)."""

    name: str
    key_span: Span
    node: Node
    base: Entry | None = None


@dataclass
class RawModel:
    file: str
    scalars: dict[str, Node] = field(default_factory=dict)
    sections: dict[str, dict[str, Entry]] = field(default_factory=lambda: {s: {} for s in SECTIONS})
    checks: list[tuple[str, Span]] = field(default_factory=list)
    removed_properties: dict[str, Span] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    root_span: Span | None = None  # where the top-level mapping starts


def read_text(
    path: str, diags: Collector, sources: SourceCache, span: Span | None = None, key_path: str = ""
) -> str | None:
    p = Path(path)
    where = span or Span(path, 0, 0)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        diags.error(Code.CANNOT_READ, f"no such file: {path}", where, key_path)
        return None
    except IsADirectoryError:
        diags.error(
            Code.CANNOT_READ, f"{path} is a directory, a model file is needed", where, key_path
        )
        return None
    except UnicodeDecodeError:
        diags.error(Code.CANNOT_READ, f"{path} is not UTF-8 text", where, key_path)
        return None
    except OSError as exc:
        diags.error(Code.CANNOT_READ, f"cannot read {path}: {exc.strerror or exc}", where, key_path)
        return None
    sources.add(path, text)
    return text


def _rel(base_file: str, target: str) -> str:
    if Path(target).is_absolute():
        return target
    return os.path.normpath(Path(base_file).parent / target)


def _path_list(node: Node, key: str, diags: Collector) -> list[tuple[str, Span]]:
    items = node.value if node.is_list else [node]
    out: list[tuple[str, Span]] = []
    for item in items:
        if not isinstance(item.value, str) or not item.value:
            diags.error(Code.WRONG_TYPE, "expected a file path (a string)", item.span, key)
            continue
        out.append((item.value, item.span))
    return out


def load_raw(
    path: str,
    diags: Collector,
    sources: SourceCache,
    *,
    stack: tuple[str, ...] = (),
    span: Span | None = None,
) -> RawModel | None:
    """Read `path` and everything it extends into one merged RawModel."""
    text = read_text(path, diags, sources, span, "extends" if stack else "")
    if text is None:
        return None
    root = parse_yaml(path, text, diags)
    if root is None:
        return None
    if not root.is_map:
        diags.error(
            Code.NOT_A_MODEL, "a model file must be a YAML mapping with a `model` key", root.span
        )
        return None
    raw = RawModel(path, root_span=root.span)
    raw.files.append(path)
    for key, kspan in root.key_spans.items():
        if key not in MODEL_KEYS:
            diags.error(
                Code.UNKNOWN_KEY,
                f"unknown top-level key '{key}'",
                kspan,
                key,
                did_you_mean(key, MODEL_KEYS),
            )
    top = root.value
    if "extends" in top:
        for target, tspan in _path_list(top["extends"], "extends", diags):
            full = _rel(path, target)
            resolved = str(Path(full).resolve())
            if resolved in stack or resolved == str(Path(path).resolve()):
                chain = " -> ".join([*(Path(s).name for s in stack), Path(path).name, target])
                diags.error(Code.EXTENDS_CYCLE, f"extends forms a cycle: {chain}", tspan, "extends")
                continue
            if not Path(full).exists():
                diags.error(
                    Code.EXTENDS_MISSING,
                    f"extends a file that does not exist: {target}",
                    tspan,
                    "extends",
                )
                continue
            parent = load_raw(
                full, diags, sources, stack=(*stack, str(Path(path).resolve())), span=tspan
            )
            if parent is not None:
                _merge_into(raw, parent)
    if "remove" in top:
        _apply_remove(raw, top["remove"], diags)
    for key in SCALARS:
        if key in top:
            raw.scalars[key] = top[key]
    for section in SECTIONS:
        if section in top:
            _merge_section(raw, section, top[section], diags)
    if "check" in top:
        for target, tspan in _path_list(top["check"], "check", diags):
            raw.checks.append((_rel(path, target), tspan))
    return raw


def _merge_into(raw: RawModel, parent: RawModel) -> None:
    raw.scalars.update(parent.scalars)
    for section in SECTIONS:
        for name, entry in parent.sections[section].items():
            raw.sections[section][name] = entry
    raw.checks.extend(parent.checks)
    raw.removed_properties.update(parent.removed_properties)
    raw.files.extend(f for f in parent.files if f not in raw.files)


def _merge_section(raw: RawModel, section: str, node: Node, diags: Collector) -> None:
    if node.value is None:
        return
    if not node.is_map:
        diags.error(
            Code.WRONG_TYPE,
            f"'{section}' must be a mapping of names to entries",
            node.span,
            section,
        )
        return
    target = raw.sections[section]
    for name, value in node.value.items():
        base = target.get(name)
        target[name] = Entry(name, node.key_spans[name], value, base)
        if section == "properties":
            raw.removed_properties.pop(name, None)


def _apply_remove(raw: RawModel, node: Node, diags: Collector) -> None:
    if not node.is_map:
        diags.error(
            Code.WRONG_TYPE,
            "remove: expected {actions: [...], properties: [...]}",
            node.span,
            "remove",
        )
        return
    for key, value in node.value.items():
        kspan = node.key_spans[key]
        if key not in ("actions", "properties"):
            diags.error(
                Code.UNKNOWN_KEY,
                f"unknown key '{key}'",
                kspan,
                "remove",
                did_you_mean(key, ("actions", "properties")),
            )
            continue
        names = value.value if value.is_list else [value]
        for item in names:
            if not isinstance(item.value, str):
                diags.error(Code.WRONG_TYPE, "expected a name", item.span, f"remove.{key}")
                continue
            section = raw.sections[key]
            if item.value in section:
                del section[item.value]
                if key == "properties":
                    raw.removed_properties[item.value] = item.span
            elif key == "properties":
                # may name a property of a `check` file, resolved when those are read
                raw.removed_properties[item.value] = item.span
            else:
                diags.error(
                    Code.UNKNOWN_NAME,
                    f"remove: no inherited action '{item.value}'",
                    item.span,
                    f"remove.{key}",
                    did_you_mean(item.value, section),
                )


def load_check_files(
    raw: RawModel, diags: Collector, sources: SourceCache
) -> tuple[dict[str, Entry], dict[str, Entry]]:
    """The defs and properties of the `check` files, in order, later files replacing earlier."""
    defs: dict[str, Entry] = {}
    props: dict[str, Entry] = {}
    seen: set[str] = set()
    for path, span in raw.checks:
        resolved = str(Path(path).resolve())
        if resolved in seen:
            continue
        seen.add(resolved)
        if not Path(path).exists():
            diags.error(
                Code.EXTENDS_MISSING,
                f"check names a file that does not exist: {path}",
                span,
                "check",
            )
            continue
        text = read_text(path, diags, sources, span, "check")
        if text is None:
            continue
        raw.files.append(path)
        root = parse_yaml(path, text, diags)
        if root is None:
            continue
        if not root.is_map:
            diags.error(
                Code.NOT_A_MODEL, "a property file must be a mapping with `properties`", root.span
            )
            continue
        for key, kspan in root.key_spans.items():
            if key not in CHECK_FILE_KEYS:
                diags.error(
                    Code.UNKNOWN_KEY,
                    f"unknown top-level key '{key}' in a property file",
                    kspan,
                    key,
                    did_you_mean(key, CHECK_FILE_KEYS),
                )
        for section, out in (("defs", defs), ("properties", props)):
            node = root.value.get(section)
            if node is None or node.value is None:
                continue
            if not node.is_map:
                diags.error(Code.WRONG_TYPE, f"'{section}' must be a mapping", node.span, section)
                continue
            for name, value in node.value.items():
                out[name] = Entry(name, node.key_spans[name], value, out.get(name))
    return defs, props
