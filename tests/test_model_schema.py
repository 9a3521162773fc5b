"""docs/model.schema.json: generated from model/grammar.py, valid, accepts every bundled model
and rejects every bad-input fixture whose error a schema can express."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from preemptcheck.core.errors import Collector
from preemptcheck.model.jsonschema import REGENERATE, build, render
from preemptcheck.model.yamlnodes import Node, parse_yaml
from test_bad_inputs import parse_expectation

ROOT = Path(__file__).parent.parent
SCHEMA_FILE = ROOT / "docs" / "model.schema.json"
BAD = Path(__file__).parent / "fixtures" / "bad"

# Model files the project ships or tests with; `check:` and `extends:` targets are added below.
BUNDLED_GLOBS = (
    "models/**/*.yaml",
    "models-large/**/*.yaml",
    "properties/**/*.yaml",
    "benchmarks/models/*.yaml",
    "tests/fixtures/ok_small.yaml",
    "tests/fixtures/agreement/*.yaml",  # 200 generated models, every construct the strategy draws
)

# Bad fixtures the schema rejects: unknown keys, wrong YAML types, missing required keys,
# values outside a closed set, keys that apply only beside others.
REJECTED = {
    "PC004_missing_model.yaml",  # neither `model` nor `extends`, and not a property file
    "PC004_top_level_list.yaml",
    "PC100_expect_unknown_mode.yaml",
    "PC100_unknown_top_level_key.yaml",
    "PC100_unknown_var_key.yaml",
    "PC100_when_on_invariant.yaml",
    "PC101_action_without_do.yaml",
    "PC101_int_without_range.yaml",
    "PC102_do_as_list.yaml",
    "PC102_vars_as_list.yaml",
    "PC106_role_on_wrong_type.yaml",  # a role implies the variable's type
    "PC107_bad_expect.yaml",
    "PC107_deadlock_value.yaml",
    "PC107_irq_with_steps.yaml",
    "PC107_unknown_mode_in_modes.yaml",
    "PC107_unknown_mode_value.yaml",
    "PC107_unknown_var_type.yaml",
    "PC107_word_bits_too_wide.yaml",  # a literal width is bounded (an expression is not)
    "PC107_word_bits_zero.yaml",
    "PC108_reserved_var_name.yaml",
}

# Bad fixtures the schema cannot tell from valid ones, and why: the schema sees one file's YAML
# values, not the names the model declares, the types of its expressions or other files.
NOT_EXPRESSIBLE = {
    # YAML syntax: an editor's YAML parser reports these itself
    "PC002_bad_indentation.yaml": "YAML syntax",
    "PC002_flow_key_with_brackets.yaml": "YAML syntax",
    "PC002_tab_indent.yaml": "YAML syntax",
    "PC002_unclosed_flow_mapping.yaml": "YAML syntax",
    "PC003_duplicate_action.yaml": "a duplicate key is gone once YAML is parsed",
    # other files
    "PC005_extends_missing.yaml": "a file that does not exist",
    "PC006_extends_cycle.yaml": "a cycle through other files",
    "PC113_timed_monitor.yaml": "the content of the .dot file",
    # a valid model that the command it is given to cannot check
    "PC113_cpus_any_needs_a_number.yaml": "cpus: any is valid; verify needs --engine symbolic",
    # names: what a name refers to is declared elsewhere in the model
    "PC103_cpus_in_declaration.yaml": "an expression's names",
    "PC103_for_unknown_domain.yaml": "a domain is a declared name",
    "PC103_misspelt_field_in_target.yaml": "an expression's names",
    "PC103_misspelt_field_in_when.yaml": "an expression's names",
    "PC103_misspelt_name_folded_block.yaml": "an expression's names",
    "PC103_misspelt_name_literal_block.yaml": "an expression's names",
    "PC103_misspelt_name_multiline.yaml": "an expression's names",
    "PC103_misspelt_name_quoted.yaml": "an expression's names",
    "PC103_misspelt_variable.yaml": "an expression's names",
    "PC103_never_unknown_action.yaml": "an action is a declared name",
    "PC103_never_unknown_tag.yaml": "a tag is declared by the actions",
    "PC108_binding_hides_variable.yaml": "a clash between declared names",
    "PC108_enum_value_clash.yaml": "a clash between declared names",
    # expressions: their syntax and types
    "PC104_c_style_assignment_in_guard.yaml": "expression syntax",
    "PC104_c_style_not.yaml": "expression syntax",
    "PC104_unbalanced_parenthesis.yaml": "expression syntax",
    "PC105_is_operator.yaml": "expression syntax",
    "PC105_lambda_in_def.yaml": "expression syntax",
    "PC105_power.yaml": "expression syntax",
    "PC105_string_literal.yaml": "expression syntax",
    "PC105_true_division.yaml": "expression syntax",
    "PC105_unknown_function.yaml": "expression syntax",
    "PC106_and_on_ints.yaml": "expression types",
    "PC106_bool_plus_int.yaml": "expression types",
    "PC106_enum_compared_with_int.yaml": "expression types",
    "PC106_int_assigned_to_bool.yaml": "expression types",
    "PC106_order_compare_enum.yaml": "expression types",
    "PC109_cpu_var_indexed_by_task.yaml": "expression types",
    "PC109_field_of_bool.yaml": "expression types",
    "PC109_index_unindexed.yaml": "expression types",
    "PC109_tasks_var_without_index.yaml": "expression types",
    "PC110_conflicting_assign.yaml": "two targets that write the same bits",
    "PC110_same_target_indexed.yaml": "two targets that write the same bits",
    "PC111_range_uses_variable.yaml": "an expression's names",
    "PC112_def_cycle.yaml": "defs that use each other",
    # values that depend on other values
    "PC107_empty_range.yaml": "a bound is an expression over params",
    "PC107_field_does_not_fit.yaml": "a field against the word's width",
    "PC107_init_list_wrong_length.yaml": "a list against the index domain's size",
    "PC107_init_out_of_range.yaml": "an init against the range",
    "PC107_on_missing_cpu.yaml": "a CPU against cpus",
    "PC107_overlapping_fields.yaml": "fields against each other and the actions",
    "PC107_word_init_too_wide.yaml": "an init against the word's width",
}


def plain(node: Node) -> Any:
    """A located YAML node as the plain value an editor validates."""
    if node.is_map:
        return {k: plain(v) for k, v in node.value.items()}
    if node.is_list:
        return [plain(v) for v in node.value]
    return node.value


def load(path: Path) -> Any:
    """The file's YAML, read as the loader reads it (YAML 1.2: `on:` is a string key)."""
    diags = Collector()
    node = parse_yaml(str(path), path.read_text(encoding="utf-8"), diags)
    assert node is not None, f"{path}: {[d.headline() for d in diags.diagnostics]}"
    return plain(node)


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


def _bundled() -> list[Path]:
    found = {p.resolve() for pattern in BUNDLED_GLOBS for p in ROOT.glob(pattern)}
    todo = sorted(found)
    while todo:  # the files `extends` and `check` pull in are model files too
        path = todo.pop()
        doc = load(path)
        for key in ("extends", "check"):
            targets = doc.get(key, []) if isinstance(doc, dict) else []
            for target in [targets] if isinstance(targets, str) else targets:
                other = (path.parent / target).resolve()
                if other not in found:
                    found.add(other)
                    todo.append(other)
    return sorted(found)


def _where(error: jsonschema.ValidationError) -> str:
    """The error's place as the loader's key paths write it: vars.pc, steps[0]."""
    out = ""
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def test_schema_file_is_generated() -> None:
    committed = SCHEMA_FILE.read_text(encoding="utf-8") if SCHEMA_FILE.exists() else ""
    assert committed == render(), f"{SCHEMA_FILE.name} is stale: run `{REGENERATE}`"


def test_schema_is_valid() -> None:
    jsonschema.Draft202012Validator.check_schema(build())


def test_bundled_files_are_found() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in _bundled()}
    assert {"models/_base.yaml", "models/lazy.yaml", "properties/core.yaml"} <= names
    assert any(n.startswith("models-large/") for n in names)


@pytest.mark.parametrize(
    "path", [pytest.param(p, id=p.relative_to(ROOT).as_posix()) for p in _bundled()]
)
def test_bundled_file_validates(path: Path, validator: jsonschema.Draft202012Validator) -> None:
    errors = [f"{_where(e) or '(top)'}: {e.message}" for e in validator.iter_errors(load(path))]
    assert not errors, "\n".join(errors)


def test_every_bad_fixture_is_classified() -> None:
    fixtures = {p.name for p in BAD.glob("*.yaml")}
    both = REJECTED & set(NOT_EXPRESSIBLE)
    assert not both, f"listed as rejected and as not expressible: {sorted(both)}"
    unlisted = fixtures - REJECTED - set(NOT_EXPRESSIBLE)
    assert not unlisted, (
        f"classify {sorted(unlisted)}: add each to REJECTED (the schema can tell it is wrong) "
        "or to NOT_EXPRESSIBLE with the reason"
    )
    gone = (REJECTED | set(NOT_EXPRESSIBLE)) - fixtures
    assert not gone, f"listed but not in {BAD}: {sorted(gone)}"


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_bad_fixture_rejected(name: str, validator: jsonschema.Draft202012Validator) -> None:
    fixture = BAD / name
    expect = parse_expectation(fixture)
    assert expect is not None
    want = expect.key_path
    errors = list(validator.iter_errors(load(fixture)))
    assert errors, f"{name}: the schema accepts it"
    places = [_where(e) for e in errors]
    # the schema objects at the loader's place, or around it (an alternative that fails)
    assert any(want == p or want.startswith((f"{p}.", f"{p}[")) or not p for p in places), (
        f"{name}: the schema rejects {places}, the loader {want}"
    )


@pytest.mark.parametrize("name", sorted(n for n in NOT_EXPRESSIBLE if not n.startswith("PC002")))
def test_inexpressible_fixture_accepted(
    name: str, validator: jsonschema.Draft202012Validator
) -> None:
    """A fixture the schema rejects belongs in REJECTED: the lists say what the schema does."""
    errors = [_where(e) + ": " + e.message for e in validator.iter_errors(load(BAD / name))]
    assert not errors, f"{name} is rejected, move it to REJECTED: {errors}"


def test_mutated_model_rejected(validator: jsonschema.Draft202012Validator) -> None:
    """The schema can fail: an unknown key in one action of a good model."""
    doc = load(ROOT / "models" / "_base.yaml")
    validator.validate(doc)
    first = next(iter(doc["actions"]))
    doc["actions"][first]["wehn"] = "true"
    errors = list(validator.iter_errors(doc))
    assert [_where(e) for e in errors] == [f"actions.{first}"]
    assert "wehn" in errors[0].message
