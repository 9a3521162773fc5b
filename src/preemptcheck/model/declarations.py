"""Declarations -> IR: enums, tasks, cpus, variables, defs; name clashes between them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from preemptcheck.core.errors import Code, Collector, did_you_mean
from preemptcheck.core.source import NO_SPAN, Span
from preemptcheck.expr.ast import BOOL, INT, Domain, EnumT, IntT, Value, VarInfo
from preemptcheck.model import schema
from preemptcheck.model.grammar import MAX_CPUS, MAX_WORD_BITS, ROLE_TYPES, VAR, VAR_TYPES
from preemptcheck.model.ir import ROLES, Action, Var
from preemptcheck.model.merge import Entry, RawModel
from preemptcheck.model.scope import ModelScope, const_value, source_of
from preemptcheck.model.yamlnodes import Node

MAX_DOMAIN = 4096
# A state of more variable entries (an array counts one per index value), or a model of more
# action instances (one per CPU and binding), is refused: every engine's cost per state grows
# with them, and the bundled models have under a hundred of each.
MAX_STATE_ENTRIES = 4096
MAX_INSTANCES = 10_000
MAX_PROPERTIES = 10_000  # each is checked in every state: the bundled models have about 30


def build_enums(raw: RawModel, scope: ModelScope, diags: Collector) -> tuple[str, ...]:
    tasks: tuple[str, ...] = ()
    if "tasks" in raw.scalars:
        node = raw.scalars["tasks"]
        names = _name_list(node, "tasks", diags)
        if names:
            tasks = tuple(names)
            scope.enum_types["tasks"] = EnumT("tasks", tasks)
            scope.domains["tasks"] = Domain("tasks", scope.enum_types["tasks"], tasks)
    for name, entry in raw.sections["enums"].items():
        path = f"enums.{name}"
        if not schema.ident(name, entry.key_span, path, diags, what="enum"):
            continue
        values = _name_list(entry.node, path, diags)
        if values:
            enum = EnumT(name, tuple(values))
            scope.enum_types[name] = enum
            scope.domains[name] = Domain(name, enum, enum.values)
    return tasks


def _name_list(node: Node, path: str, diags: Collector) -> list[str] | None:
    if not node.is_list or not node.value:
        diags.error(
            Code.WRONG_TYPE,
            f"expected a non-empty list of names, got {schema.yaml_type(node)}",
            node.span,
            path,
        )
        return None
    out: dict[str, None] = {}  # a dict keeps the order and finds a repeat in O(1)
    for item in node.value:
        if not isinstance(item.value, str):
            diags.error(
                Code.WRONG_TYPE, f"expected a name, got {schema.yaml_type(item)}", item.span, path
            )
            return None
        if not schema.ident(item.value, item.span, path, diags, what="value"):
            return None
        if item.value in out:
            diags.error(Code.NAME_CLASH, f"'{item.value}' is listed twice", item.span, path)
            return None
        out[item.value] = None
    return list(out)


def build_cpus(
    raw: RawModel, scope: ModelScope, diags: Collector, *, ncpu: int | None, allow_any: bool
) -> tuple[int, Span | None]:
    """The number of CPUs, and where `cpus: any` says every number (None: a number). A
    model with `cpus: any` is loaded with `ncpu` CPUs, or (`allow_any`) with its smallest
    instance of two CPUs or more; otherwise it is an error: the caller needs a number."""
    node = raw.scalars.get("cpus")
    n: Value | None = 1
    if node is not None and is_any(node.value):
        if ncpu is None and not allow_any:
            diags.error(
                Code.NOT_SUPPORTED_YET,
                "`any` (every number of CPUs) is checked only by `verify --engine "
                "symbolic`, which proves the invariants for every number (as --all-cpus "
                "does); this command needs one number: give it (cpus: 4)",
                node.span,
                "cpus",
            )
        n = ncpu if ncpu is not None else max(2, _named_by_on(raw) + 1)
    elif node is not None:
        n = const_value(node, scope, diags, "cpus", INT)
    if node is not None and isinstance(n, int) and not 1 <= n <= MAX_CPUS:
        diags.error(
            Code.INVALID_VALUE,
            f"cpus must be between 1 and {MAX_CPUS}, got {n}",
            node.span,
            "cpus",
        )
        n = None
    cpus = n if isinstance(n, int) else 1
    scope.domains["cpus"] = Domain("cpus", INT, tuple(range(cpus)))
    return cpus, node.span if node is not None and is_any(node.value) else None


def is_any(value: object) -> bool:
    """`cpus: any`: every number of CPUs."""
    return isinstance(value, str) and value.strip() == "any"


def _named_by_on(raw: RawModel) -> int:
    """The largest CPU an action's `on:` names (0 when none does)."""
    out = 0
    for entry in raw.sections["actions"].values():
        if not entry.node.is_map or "on" not in entry.node.value:
            continue
        on = entry.node.value["on"].value
        for item in on if isinstance(on, list) else [on]:
            v = getattr(item, "value", item)
            if isinstance(v, int) and not isinstance(v, bool):
                out = max(out, v)
    return out


def domain_of(node: Node, scope: ModelScope, diags: Collector, path: str) -> Domain | None:
    """`cpus`, `tasks`, an enum's name, or [lo, hi]."""
    if isinstance(node.value, str):
        d = scope.domain(node.value)
        if d is None:
            diags.error(
                Code.UNKNOWN_NAME,
                f"unknown domain '{node.value}'",
                node.span,
                path,
                did_you_mean(node.value, scope.domains),
            )
        return d
    if node.is_list and len(node.value) == 2:
        lo = const_value(node.value[0], scope, diags, path, INT)
        hi = const_value(node.value[1], scope, diags, path, INT)
        if not isinstance(lo, int) or not isinstance(hi, int):
            return None
        if lo > hi or hi - lo + 1 > MAX_DOMAIN:
            diags.error(
                Code.INVALID_VALUE,
                f"[{lo}, {hi}] must have lo <= hi and at most {MAX_DOMAIN} values",
                node.span,
                path,
            )
            return None
        return Domain(f"[{lo}, {hi}]", INT, tuple(range(lo, hi + 1)))
    diags.error(Code.WRONG_TYPE, "expected cpus, tasks, an enum name or [lo, hi]", node.span, path)
    return None


def build_vars(raw: RawModel, scope: ModelScope, diags: Collector) -> list[Var]:
    out: list[Var] = []
    roles: dict[str, str] = {}
    entries = 0
    for name, entry in raw.sections["vars"].items():
        path = f"vars.{name}"
        if not schema.ident(name, entry.key_span, path, diags, what="variable"):
            continue
        var = _build_var(name, entry, scope, diags, path)
        if var is None:
            continue
        entries += len(var.entries)
        if entries > MAX_STATE_ENTRIES:
            diags.error(
                Code.TOO_LARGE,
                f"the variables have more than {MAX_STATE_ENTRIES:,} entries in all "
                f"('{name}' has {len(var.entries):,})",
                entry.key_span,
                path,
            )
            break
        if var.role is not None:
            if var.role in roles:
                diags.error(
                    Code.NAME_CLASH,
                    f"role {var.role} is already given to '{roles[var.role]}'",
                    entry.node.value["role"].span,
                    f"{path}.role",
                )
            roles[var.role] = name
        scope.vars[name] = var.info
        out.append(var)
    return out


def _build_var(
    name: str, entry: Entry, scope: ModelScope, diags: Collector, path: str
) -> Var | None:
    fields = schema.keys(entry.node, VAR, path, diags)
    if fields is None or "type" not in fields:
        return None
    kind = schema.string(fields["type"], f"{path}.type", diags)
    if kind is None:
        return None
    if kind not in VAR_TYPES:
        diags.error(
            Code.INVALID_VALUE,
            f"unknown type '{kind}' (bool, int, enum, word)",
            fields["type"].span,
            f"{path}.type",
            did_you_mean(kind, VAR_TYPES),
        )
        return None
    applies = VAR.variant(kind).keys
    for key in VAR.variant_keys:
        if key in fields and key not in applies:
            diags.error(
                Code.UNKNOWN_KEY,
                f"'{key}' does not apply to a {kind} variable",
                entry.node.key_spans[key],
                path,
            )
            return None
    index = None
    if "index" in fields:
        index = domain_of(fields["index"], scope, diags, f"{path}.index")
        if index is None:
            return None
    info = _var_info(name, kind, fields, index, scope, diags, path)
    if info is None:
        return None
    init = _init(info, fields.get("init"), scope, diags, path)
    if init is None:
        return None
    role = None
    if "role" in fields:
        role = schema.string(fields["role"], f"{path}.role", diags)
        if role is not None and not _role_ok(role, info, fields["role"], diags, f"{path}.role"):
            return None
    doc = fields["doc"].value if "doc" in fields and isinstance(fields["doc"].value, str) else ""
    return Var(info, init, role, doc, entry.key_span)


def _var_info(
    name: str,
    kind: str,
    fields: dict[str, Node],
    index: Domain | None,
    scope: ModelScope,
    diags: Collector,
    path: str,
) -> VarInfo | None:
    if kind == "bool":
        return VarInfo(name, BOOL, kind, index, (), 0, 1)
    if kind == "int":
        rng = fields.get("range")
        if rng is None or not rng.is_list or len(rng.value) != 2:
            diags.error(
                Code.MISSING_KEY if rng is None else Code.WRONG_TYPE,
                "an int variable needs range: [lo, hi]",
                (rng or fields["type"]).span,
                f"{path}.range",
            )
            return None
        lo = const_value(rng.value[0], scope, diags, f"{path}.range", INT)
        hi = const_value(rng.value[1], scope, diags, f"{path}.range", INT)
        if not isinstance(lo, int) or not isinstance(hi, int):
            return None
        if lo > hi:
            diags.error(
                Code.INVALID_VALUE, f"range [{lo}, {hi}] is empty", rng.span, f"{path}.range"
            )
            return None
        return VarInfo(name, INT, kind, index, (), lo, hi)
    if kind == "enum":
        if ("values" in fields) == ("of" in fields):
            diags.error(
                Code.MISSING_KEY,
                "an enum variable needs exactly one of values: or of:",
                fields["type"].span,
                path,
            )
            return None
        if "values" in fields:
            values = _name_list(fields["values"], f"{path}.values", diags)
            if values is None:
                return None
            enum = EnumT(name, tuple(values))
            scope.anon_enums.append(enum)
            return VarInfo(name, enum, kind, index, (), 0, len(values) - 1)
        d = domain_of(fields["of"], scope, diags, f"{path}.of")
        if d is None:
            return None
        if isinstance(d.type, IntT):
            ints = [v for v in d.values if isinstance(v, int)]
            return VarInfo(name, INT, "int", index, (), min(ints), max(ints))
        assert isinstance(d.type, EnumT)
        return VarInfo(name, d.type, kind, index, (), 0, len(d.values) - 1)
    bits_node = fields.get("bits")
    if bits_node is None:
        diags.error(Code.MISSING_KEY, "a word variable needs bits:", fields["type"].span, path)
        return None
    bits = const_value(bits_node, scope, diags, f"{path}.bits", INT)
    if not isinstance(bits, int):
        return None
    if not 1 <= bits <= MAX_WORD_BITS:
        diags.error(
            Code.INVALID_VALUE,
            f"bits must be between 1 and {MAX_WORD_BITS}, got {bits}",
            bits_node.span,
            f"{path}.bits",
        )
        return None
    flds = _fields(name, fields.get("fields"), bits, scope, diags, f"{path}.fields")
    if flds is None:
        return None
    return VarInfo(name, INT, kind, index, flds, 0, (1 << bits) - 1)


def _fields(
    var: str, node: Node | None, bits: int, scope: ModelScope, diags: Collector, path: str
) -> tuple[tuple[str, int, int], ...] | None:
    if node is None:
        return ()
    if not node.is_map:
        diags.error(Code.WRONG_TYPE, "fields: expected {name: [shift, width]}", node.span, path)
        return None
    out: list[tuple[str, int, int]] = []
    for fname, fnode in node.value.items():
        fpath = f"{path}.{fname}"
        if not schema.ident(
            fname, node.key_spans[fname], fpath, diags, what="field", reserved=False
        ):
            return None
        if not fnode.is_list or len(fnode.value) != 2:
            diags.error(Code.WRONG_TYPE, "a field is [shift, width]", fnode.span, fpath)
            return None
        shift = const_value(fnode.value[0], scope, diags, fpath, INT)
        width = const_value(fnode.value[1], scope, diags, fpath, INT)
        if not isinstance(shift, int) or not isinstance(width, int):
            return None
        if shift < 0 or width < 1 or shift + width > bits:
            diags.error(
                Code.INVALID_VALUE,
                f"field [{shift}, {width}] does not fit in {bits} bits",
                fnode.span,
                fpath,
            )
            return None
        mask = ((1 << width) - 1) << shift
        for other, oshift, owidth in out:  # kernel masks overlap: read-only views may too
            if mask & (((1 << owidth) - 1) << oshift):
                scope.field_overlaps.append((var, fname, other, fnode.span, fpath))
        out.append((fname, shift, width))
    return tuple(out)


def _init(
    info: VarInfo, node: Node | None, scope: ModelScope, diags: Collector, path: str
) -> tuple[Value, ...] | None:
    n = 1 if info.index is None else len(info.index.values)
    if node is None:
        default: Value = (
            False
            if info.kind == "bool"
            else (info.type.values[0] if isinstance(info.type, EnumT) else info.lo)
        )
        return (default,) * n
    items = [node] * n
    if node.is_list:
        if info.index is None or len(node.value) != n:
            want = (
                "one value"
                if info.index is None
                else f"{n} values (one per {info.index.name} entry)"
            )
            diags.error(
                Code.INVALID_VALUE,
                f"init: expected {want}, got a list of {len(node.value)}",
                node.span,
                f"{path}.init",
            )
            return None
        items = node.value
    out: list[Value] = []
    for item in items:
        v = const_value(item, scope, diags, f"{path}.init", info.type)
        if v is None:
            return None
        if isinstance(v, int) and not isinstance(v, bool) and not info.lo <= v <= info.hi:
            what = (
                f"range [{info.lo}, {info.hi}]"
                if info.kind == "int"
                else f"{info.hi.bit_length()} bits"
            )
            shown = hex(v) if info.kind == "word" else str(v)
            diags.error(
                Code.INVALID_VALUE, f"init {shown} does not fit {what}", item.span, f"{path}.init"
            )
            return None
        out.append(v)
    return tuple(out)


def _role_ok(role: str, info: VarInfo, node: Node, diags: Collector, path: str) -> bool:
    if role not in ROLES:
        diags.error(
            Code.INVALID_VALUE,
            f"unknown role '{role}' ({', '.join(ROLES)})",
            node.span,
            path,
            did_you_mean(role, ROLES),
        )
        return False
    need = ROLE_TYPES[role]
    if info.kind != need:
        diags.error(Code.TYPE_MISMATCH, f"role {role} needs a {need} variable", node.span, path)
        return False
    return True


def build_defs(entries: Mapping[str, Entry], scope: ModelScope, diags: Collector) -> None:
    for name, entry in entries.items():
        path = f"defs.{name}"
        if not schema.ident(name, entry.key_span, path, diags, what="def"):
            continue
        node = entry.node
        if not node.is_scalar or node.value is None:
            diags.error(
                Code.WRONG_TYPE,
                f"a def is one expression, got {schema.yaml_type(node)}",
                node.span,
                path,
            )
            continue
        scope.defs[name] = source_of(node, path)


def check_clashes(
    declared: list[tuple[str, str, Entry]], scope: ModelScope, diags: Collector
) -> None:
    """Declared names must be distinct, and enum values must not hide a declared name."""
    section = {"param": "params", "enum": "enums", "variable": "vars", "def": "defs"}
    seen: dict[str, str] = {}
    spans: dict[str, Span] = {}
    for name, kind, entry in declared:
        if name in seen:
            diags.error(
                Code.NAME_CLASH,
                f"'{name}' is declared as a {seen[name]} and as a {kind}",
                entry.key_span,
                f"{section[kind]}.{name}",
            )
            continue
        seen[name] = kind
        spans[name] = entry.key_span
    for enum in (*scope.enum_types.values(), *scope.anon_enums):
        for value in enum.values:
            owner = seen.get(value)
            if owner is not None and not (owner == "param" and enum.name == value):
                diags.error(
                    Code.NAME_CLASH,
                    f"the {owner} '{value}' has the name of a value of enum {enum.name}: "
                    f"a bare '{value}' would be ambiguous",
                    spans.get(value, NO_SPAN),
                    f"{section[owner]}.{value}",
                )


def check_field_overlaps(scope: ModelScope, actions: Iterable[Action], diags: Collector) -> None:
    """Overlapping fields of a word are read-only views (as the kernel's SOFTIRQ_MASK covers
    the softirq-serving bit and the bottom-half count): no action may assign one."""
    assigned: dict[tuple[str, str], str] = {}
    for action in actions:
        for step in action.steps:
            for a in step.assigns:
                if a.target.fld is not None:
                    assigned.setdefault((a.target.var.name, a.target.fld), action.name)
    for var, fname, other, span, path in scope.field_overlaps:
        for written in (fname, other):
            by = assigned.get((var, written))
            if by is not None:
                diags.error(
                    Code.INVALID_VALUE,
                    f"field '{fname}' overlaps field '{other}', and action '{by}' assigns "
                    f"'{var}.{written}': overlapping fields are read-only views, the fields "
                    "actions assign must be disjoint",
                    span,
                    path,
                )
                break
