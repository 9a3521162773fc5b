"""The shapes a model file's YAML values may take, as data (see model/grammar.py)."""

from __future__ import annotations

from dataclasses import dataclass

Literal = str | int | bool  # a YAML scalar a shape may name: an enum value, a constant


@dataclass(frozen=True, slots=True)
class Scalar:
    """A YAML scalar of one of `types` ("string", "integer", "boolean")."""

    types: tuple[str, ...]
    doc: str = ""
    name: str = ""  # its name among the shared definitions, for a shape used in several places
    enum: tuple[Literal, ...] = ()  # a closed set of values
    pattern: str = ""  # a string must match it
    reserved: tuple[str, ...] = ()  # strings it may not be
    minimum: int | None = None  # bounds of an integer (a string, an expression, is not bounded)
    maximum: int | None = None


@dataclass(frozen=True, slots=True)
class ListOf:
    item: Shape
    doc: str = ""
    name: str = ""
    min_items: int = 0
    max_items: int | None = None
    unique: bool = False


@dataclass(frozen=True, slots=True)
class MapOf:
    """A mapping from names the model chooses (variables, actions, ...) to values of one shape."""

    value: Shape
    doc: str = ""
    name: str = ""
    names: Shape | None = None  # what a name may be
    fixed: tuple[Key, ...] = ()  # names that have a shape of their own (params' `mode`)
    nullable: bool = False  # an empty value (`vars:` alone) means no entries


@dataclass(frozen=True, slots=True)
class AnyOf:
    """A value of any of the shapes (a name, or a list of names)."""

    options: tuple[Shape, ...]
    doc: str = ""
    name: str = ""


@dataclass(frozen=True, slots=True)
class Key:
    """A key of a mapping with a fixed set of keys."""

    name: str
    shape: Shape
    doc: str
    missing: str = ""  # the loader's message when this required key is absent (default: generic)
    only_with: tuple[str, ...] = ()  # the key applies only beside one of these keys
    excludes: tuple[str, ...] = ()  # keys that may not appear beside it ...
    excludes_if: Literal | None = None  # ... (only when it has this value)
    implies: tuple[tuple[Literal, str, Literal], ...] = ()  # (its value, other key, its value)


@dataclass(frozen=True, slots=True)
class Variant:
    """What the mapping needs when its tag key has `value` (a var of `type: int`)."""

    value: str
    keys: tuple[str, ...] = ()  # which of the keys that only some variants take it takes
    required: tuple[str, ...] = ()
    one_of: tuple[str, ...] = ()  # exactly one of these


@dataclass(frozen=True, slots=True)
class Obj:
    """A mapping with a fixed set of keys: any other key is an error, unless `extra` is given."""

    title: str
    fields: tuple[Key, ...]
    doc: str = ""
    name: str = ""
    required: tuple[str, ...] = ()
    one_of: tuple[str, ...] = ()  # exactly one of these keys
    tag: str = ""  # the key whose value selects a variant
    variants: tuple[Variant, ...] = ()
    extra: Shape | None = None  # the value of any other key (an emission's attributes)
    extra_names: Shape | None = None  # what such another key may be

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.fields)

    def key(self, name: str) -> Key:
        return next(k for k in self.fields if k.name == name)

    @property
    def variant_keys(self) -> tuple[str, ...]:
        """The keys only some variants take, in declaration order."""
        taken = {k for v in self.variants for k in v.keys}
        return tuple(k for k in self.keys if k in taken)

    def variant(self, value: str) -> Variant:
        return next(v for v in self.variants if v.value == value)


Shape = Scalar | ListOf | MapOf | AnyOf | Obj
