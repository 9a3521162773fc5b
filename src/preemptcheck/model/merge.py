"""Reading model files: top-level keys, `extends` chains with `remove`, and `check` files."""

from __future__ import annotations

import os
from collections.abc import Generator
from dataclasses import dataclass, field

from preemptcheck.core.errors import Code, Collector, did_you_mean
from preemptcheck.core.source import SourceCache, Span, UnreadableError, read_source, show_path
from preemptcheck.model.grammar import MODEL, PROPERTY_FILE, REMOVE, SCALARS, SECTIONS
from preemptcheck.model.yamlnodes import Node, parse_yaml

MODEL_KEYS = MODEL.keys
CHECK_FILE_KEYS = PROPERTY_FILE.keys


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
    path: str,
    diags: Collector,
    sources: SourceCache,
    span: Span | None = None,
    key_path: str = "",
    *,
    missing: Code = Code.CANNOT_READ,
) -> str | None:
    """The text of an input file, or None with a diagnostic at `span` (the `extends` or
    `check` entry naming it; else the file itself). A path with nothing there is reported
    with `missing`."""
    where = span or Span(path, 0, 0)
    try:
        text = read_source(path)
    except UnreadableError as exc:
        shown = show_path(path)
        if exc.missing and missing != Code.CANNOT_READ:
            what = "extends" if key_path == "extends" else "check names"
            diags.error(missing, f"{what} a file that does not exist: {shown}", where, key_path)
        elif exc.missing:
            diags.error(Code.CANNOT_READ, f"no such file: {shown}", where, key_path)
        else:
            code = Code.TOO_LARGE if exc.too_large else Code.CANNOT_READ
            diags.error(code, f"cannot read {shown}: {exc.reason}", where, key_path)
        return None
    sources.add(path, text)
    return text


def _real(path: str) -> str:
    """The canonical path, for cycle checks; the path itself where it cannot be resolved
    (a NUL byte, a symlink loop: reading it reports why)."""
    try:
        return os.path.realpath(path)
    except (OSError, ValueError):
        return os.path.abspath(path) if "\0" not in path else path


def _rel(base_file: str, target: str) -> str:
    if os.path.isabs(target):
        return target
    return os.path.normpath(os.path.join(os.path.dirname(base_file), target))


def _path_list(node: Node, key: str, diags: Collector) -> list[tuple[str, Span]]:
    items = node.value if node.is_list else [node]
    out: list[tuple[str, Span]] = []
    for item in items:
        if not isinstance(item.value, str) or not item.value:
            diags.error(Code.WRONG_TYPE, "expected a file path (a string)", item.span, key)
            continue
        out.append((item.value, item.span))
    return out


# `extends` chains deeper than this are refused (real models use two or three levels)
MAX_EXTENDS_DEPTH = 1000

# what _load_one yields to ask for a parent: (path, span of the `extends` entry)
_Request = tuple[str, Span]


def load_raw(path: str, diags: Collector, sources: SourceCache) -> RawModel | None:
    """Read `path` and everything it extends into one merged RawModel.

    Each file is loaded by a generator that yields a request for each parent it extends and
    receives the parent's RawModel back, so a deep chain costs no Python recursion. A file
    reached twice (a diamond of extends) is loaded once.
    """
    done: dict[str, RawModel | None] = {}
    frames = [(_real(path), _load_one(path, diags, sources, top=True))]
    reply: RawModel | None = None
    while frames:
        real, frame = frames[-1]
        try:
            target, span = frame.send(reply)
        except StopIteration as stop:
            frames.pop()
            reply = done[real] = stop.value
            continue
        reply = None
        target_real = _real(target)
        chain = [r for r, _ in frames]
        if target_real in chain:
            names = [*(os.path.basename(r) for r in chain[chain.index(target_real) :]), target]
            diags.error(
                Code.EXTENDS_CYCLE, f"extends forms a cycle: {' -> '.join(names)}", span, "extends"
            )
        elif target_real in done:
            reply = done[target_real]
        elif len(frames) >= MAX_EXTENDS_DEPTH:
            diags.error(
                Code.TOO_LARGE,
                f"extends chain deeper than {MAX_EXTENDS_DEPTH} files",
                span,
                "extends",
            )
        else:
            frames.append((target_real, _load_one(target, diags, sources, span=span)))
    return reply


def _load_one(
    path: str,
    diags: Collector,
    sources: SourceCache,
    *,
    top: bool = False,
    span: Span | None = None,
) -> Generator[_Request, RawModel | None, RawModel | None]:
    missing = Code.CANNOT_READ if top else Code.EXTENDS_MISSING
    text = read_text(path, diags, sources, span, "" if top else "extends", missing=missing)
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
    top_map = root.value
    if "extends" in top_map:
        for target, tspan in _path_list(top_map["extends"], "extends", diags):
            parent = yield _rel(path, target), tspan
            if parent is not None:
                _merge_into(raw, parent)
    if "remove" in top_map:
        _apply_remove(raw, top_map["remove"], diags)
    for key in SCALARS:
        if key in top_map:
            raw.scalars[key] = top_map[key]
    for section in SECTIONS:
        if section in top_map:
            _merge_section(raw, section, top_map[section], diags)
    if "check" in top_map:
        for target, tspan in _path_list(top_map["check"], "check", diags):
            raw.checks.append((_rel(path, target), tspan))
    return raw


def _merge_into(raw: RawModel, parent: RawModel) -> None:
    raw.scalars.update(parent.scalars)
    for section in SECTIONS:
        for name, entry in parent.sections[section].items():
            raw.sections[section][name] = entry
    raw.checks.extend(parent.checks)
    raw.removed_properties.update(parent.removed_properties)
    raw.files[:] = dict.fromkeys([*raw.files, *parent.files])


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
        if key not in REMOVE.keys:
            diags.error(
                Code.UNKNOWN_KEY,
                f"unknown key '{key}'",
                kspan,
                "remove",
                did_you_mean(key, REMOVE.keys),
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
        resolved = _real(path)
        if resolved in seen:
            continue
        seen.add(resolved)
        text = read_text(path, diags, sources, span, "check", missing=Code.EXTENDS_MISSING)
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
