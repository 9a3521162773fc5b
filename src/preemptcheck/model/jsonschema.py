"""model/grammar.py -> the JSON Schema (draft 2020-12) editors validate model files with.

    python -m preemptcheck.model.jsonschema > docs/model.schema.json

The schema says what one file's YAML may be: its keys, the YAML type of each value and
the closed sets; what needs the model's declarations (names, expression types, ranges) is
left to the loader. tests/test_model_schema.py checks that the committed file is this output.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from preemptcheck.model import grammar
from preemptcheck.model.shapes import AnyOf, Key, ListOf, MapOf, Obj, Scalar, Shape

SCHEMA_ID = "https://preemptcheck.invalid/schema/model/v1.json"
REGENERATE = "python -m preemptcheck.model.jsonschema > docs/model.schema.json"

JSON = dict[str, Any]


class _Builder:
    def __init__(self) -> None:
        self.defs: JSON = {}
        self.named: dict[str, Shape] = {}

    def shape(self, shape: Shape) -> JSON:
        """A shape's schema: a reference to its definition when it is named."""
        if not shape.name:
            return self.inline(shape)
        known = self.named.setdefault(shape.name, shape)
        assert known == shape, f"two shapes named {shape.name}"
        if shape.name not in self.defs:
            self.defs[shape.name] = {}  # claimed first: a shape may contain itself
            self.defs[shape.name] = self.inline(shape)
        return {"$ref": f"#/$defs/{shape.name}"}

    def inline(self, shape: Shape) -> JSON:
        out: JSON
        if isinstance(shape, Scalar):
            out = _scalar(shape)
        elif isinstance(shape, ListOf):
            out = {"type": "array", "items": self.shape(shape.item)}
            if shape.min_items:
                out["minItems"] = shape.min_items
            if shape.max_items is not None:
                out["maxItems"] = shape.max_items
            if shape.unique:
                out["uniqueItems"] = True
        elif isinstance(shape, MapOf):
            out = {"type": ["object", "null"] if shape.nullable else "object"}
            if shape.fixed:
                out["properties"] = {k.name: self.key(k) for k in shape.fixed}
            out["additionalProperties"] = self.shape(shape.value)
            if shape.names is not None:
                out["propertyNames"] = self.names(shape.names, shape.fixed)
        elif isinstance(shape, AnyOf):
            out = {"anyOf": [self.shape(s) for s in shape.options]}
        else:
            out = self.obj(shape)
        if shape.doc and "description" not in out:
            out = {"description": shape.doc, **out}
        return out

    def names(self, names: Shape, fixed: tuple[Key, ...]) -> JSON:
        """What the keys of a mapping may be: a fixed key, or a name of the form given."""
        schema = self.shape(names)
        if not fixed:
            return schema
        return {"anyOf": [{"enum": [k.name for k in fixed]}, schema]}

    def key(self, key: Key) -> JSON:
        """A key's schema, with the key's own help first (editors show it on hover)."""
        schema = self.shape(key.shape)
        return {"description": key.doc, **{k: v for k, v in schema.items() if k != "description"}}

    def obj(self, obj: Obj) -> JSON:
        out: JSON = {"title": obj.title, "type": "object"}
        if obj.doc:
            out["description"] = obj.doc
        out["properties"] = {k.name: self.key(k) for k in obj.fields}
        if obj.extra is None:
            out["additionalProperties"] = False
        else:
            out["additionalProperties"] = self.shape(obj.extra)
            if obj.extra_names is not None:
                out["propertyNames"] = self.names(obj.extra_names, obj.fields)
        if obj.required:
            out["required"] = list(obj.required)
        rules = _rules(obj)
        if obj.one_of:
            out["oneOf"] = [{"required": [k]} for k in obj.one_of]
        depends = {k.name: list(k.only_with) for k in obj.fields if len(k.only_with) == 1}
        if depends:
            out["dependentRequired"] = depends
        several = {
            k.name: {"anyOf": [{"required": [o]} for o in k.only_with]}
            for k in obj.fields
            if len(k.only_with) > 1
        }
        if several:
            out["dependentSchemas"] = several
        if rules:
            out["allOf"] = rules
        return out


def _scalar(s: Scalar) -> JSON:
    out: JSON = {"type": s.types[0] if len(s.types) == 1 else list(s.types)}
    if s.enum:
        out["enum"] = list(s.enum)
    if s.pattern:
        out["pattern"] = s.pattern
    if s.reserved:
        out["not"] = {"enum": list(s.reserved)}
    if s.minimum is not None:
        out["minimum"] = s.minimum
    if s.maximum is not None:
        out["maximum"] = s.maximum
    return out


def _has(key: str, value: object) -> JSON:
    return {"properties": {key: {"const": value}}, "required": [key]}


def _rules(obj: Obj) -> list[JSON]:
    """The constraints between an object's keys: variants, exclusions, implications."""
    rules: list[JSON] = []
    for v in obj.variants:
        then: JSON = {}
        if v.required:
            then["required"] = list(v.required)
        if v.one_of:
            then["oneOf"] = [{"required": [k]} for k in v.one_of]
        barred = [k for k in obj.variant_keys if k not in v.keys]
        if barred:
            then["properties"] = {k: False for k in barred}
        rules.append({"if": _has(obj.tag, v.value), "then": then})
    for k in obj.fields:
        for other in k.excludes:
            both: JSON = {"required": [k.name, other]}
            if k.excludes_if is not None:
                both["properties"] = {k.name: {"const": k.excludes_if}}
            rules.append({"not": both})
        for value, other, needed in k.implies:
            # said of this key (`role`), where the loader reports it: not this value unless
            # the other key has the value it needs
            other_differs = {"properties": {other: {"not": {"const": needed}}}, "required": [other]}
            then = {"properties": {k.name: {"not": {"const": value}}}}
            rules.append({"if": other_differs, "then": then})
    return rules


def build() -> JSON:
    """The schema of a model file (or a property file that `check:` names)."""
    b = _Builder()
    root = b.obj(grammar.MODEL)
    title = root.pop("title")
    description = root.pop("description")
    # a model names itself (or extends one that does); a file that does neither is a
    # property file, which has fewer keys
    root["anyOf"] = [
        *({"required": [k]} for k in grammar.NAMED_BY),
        {"propertyNames": {"enum": list(grammar.PROPERTY_FILE.keys)}},
    ]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": title,
        "description": f"{description} Generated by `{REGENERATE}`.",
        **root,
        "$defs": dict(sorted(b.defs.items())),
    }


def render() -> str:
    return _dump(build(), "") + "\n"


def _dump(value: Any, indent: str) -> str:
    """JSON, indented, with a value that fits on one short line written on one line."""
    flat = json.dumps(value, ensure_ascii=False)
    if len(indent) + len(flat) <= _WIDTH or not isinstance(value, dict | list) or not value:
        return flat
    inner = indent + "  "
    if isinstance(value, list):
        items = [inner + _dump(v, inner) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + indent + "]"
    pairs = [f"{inner}{json.dumps(k)}: {_dump(v, inner)}" for k, v in value.items()]
    return "{\n" + ",\n".join(pairs) + "\n" + indent + "}"


_WIDTH = 96


def main() -> None:
    sys.stdout.write(render())


if __name__ == "__main__":
    main()
