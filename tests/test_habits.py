"""Kernel habits in models: C's logical operators, flow-style `do:` with indexed keys, and
overlapping views of a word's bits (issue 17, item 7)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import write_model
from preemptcheck.checking.check import Options, check_file
from preemptcheck.checking.results import ModelResult, Verdict
from preemptcheck.core.errors import InputError
from preemptcheck.model import load_model


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(InputError) as err:
        load_model(write_model(tmp_path, text))
    (first, *_) = err.value.diagnostics
    return first.render()


@pytest.mark.parametrize(
    ("guard", "op", "column", "word"),
    [
        ("x < 3 && f", "&&", 17, "and"),
        ("x == 0 || f", "||", 18, "or"),
        ("x < 3 and !f", "!", 21, "not"),
    ],
)
def test_c_logical_operators_get_a_hint(
    tmp_path: Path, guard: str, op: str, column: int, word: str
) -> None:
    text = f"""
        model: habits
        vars:
          x: {{type: int, range: [0, 3]}}
          f: {{type: bool}}
        actions:
          inc:
            when: {guard}
            do: {{x: 0}}
        """
    shown = _error(tmp_path, text)
    assert f"model.yaml:7:{column}: error[PC104]" in shown
    assert f"'{op}' is C (write '{word}'" in shown


def test_not_equal_is_not_a_c_habit(tmp_path: Path) -> None:
    path = write_model(
        tmp_path,
        """
        model: habits
        vars:
          x: {type: int, range: [0, 3]}
        actions:
          inc:
            when: x != 3
            do: {x: x + 1}
        """,
    )
    assert load_model(path).actions[0].name == "inc"


def test_flow_style_do_with_an_index_gets_the_block_style_hint(tmp_path: Path) -> None:
    text = """
        model: habits
        cpus: 2
        vars:
          x: {type: int, range: [0, 3], index: cpus}
        actions:
          inc:
            when: x < 3
            do: {x[self]: x + 1}
        """
    shown = _error(tmp_path, text)
    assert "error[PC002]" in shown
    assert "YAML forbids [ ] in keys inside { }: write this mapping in block style" in shown


WORD = """
    model: masks
    vars:
      pc:
        type: word
        bits: 16
        # the kernel's masks overlap: SOFTIRQ_MASK covers the serving bit and the BH count
        fields: {{count: [0, 8], softirq: [8, 8], serving: [8, 1], bh: [9, 7]}}
    actions:
      local_bh_disable:
        when: pc < 0x0600
        do: {{pc: pc + 0x200}}
      serve:
        when: pc.serving == 0
        do: {{{serve}: pc + 0x100}}
    properties:
      views-agree:
        invariant: pc.softirq == pc.serving + 2 * pc.bh
      serving-seen:
        reachable: pc.serving == 1 and pc.bh == 2
    """


@pytest.mark.parametrize("engine", ["explicit", "symbolic"])
def test_overlapping_read_only_fields_are_views_of_the_same_bits(
    tmp_path: Path, engine: str
) -> None:
    result = check_file(write_model(tmp_path, WORD.format(serve="pc")), Options(engine=engine))
    assert isinstance(result, ModelResult)
    verdicts = {p.id: p.verdict for p in result.properties}
    assert verdicts["views-agree"] == Verdict.HOLDS
    if engine == "explicit":
        assert verdicts["serving-seen"] == Verdict.HOLDS
        # pc in {0, 0x100} + {0, 0x200, 0x400, 0x600}: 8 states
        assert result.stats.states == 8


def test_an_assigned_field_may_not_overlap_and_the_error_names_the_other(
    tmp_path: Path,
) -> None:
    shown = _error(tmp_path, WORD.format(serve="pc.serving"))
    assert "error[PC107]" in shown
    assert "field 'serving' overlaps field 'softirq', and action 'serve' assigns 'pc.serving'" in (
        shown
    )
