"""The results cache (issue 6, item 5): an unchanged model + properties + params + options +
preemptcheck reuses its result; any change to what decides it checks it again."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from preemptcheck.checking.check import Options, check_paths
from preemptcheck.checking.results import ModelResult, RunResult
from preemptcheck.ci.cache import ResultCache
from preemptcheck.report.text import render_run

ROOT = Path(__file__).resolve().parents[1]


def _copy(tmp_path: Path) -> Path:
    """A models/ + properties/ tree: the five mode models and the lost-wakeup race. The mode
    models check core.yaml only: their monitors cost most of a run and are cached as any
    property is (tests/test_monitors.py keys the cache on a monitor's .dot text)."""
    (tmp_path / "models" / "races").mkdir(parents=True)
    for name in ("_base", "none", "voluntary", "full", "lazy", "rt"):
        text = (ROOT / "models" / f"{name}.yaml").read_text()
        text = text.replace(", ../properties/monitors.yaml]", "]")
        (tmp_path / "models" / f"{name}.yaml").write_text(text)
    shutil.copy(ROOT / "models" / "races" / "lost-wakeup.yaml", tmp_path / "models" / "races")
    shutil.copytree(ROOT / "properties", tmp_path / "properties")
    return tmp_path / "models"


def _run(models: Path, cache: Path, **opts: object) -> tuple[list[ModelResult], int, int]:
    options = Options(cache_dir=str(cache), **opts)  # type: ignore[arg-type]
    run = check_paths([str(models)], options)
    results = [m for m in run.models if isinstance(m, ModelResult)]
    return results, sum(m.cached for m in results), len(results)


@pytest.mark.slow
def test_unchanged_models_are_reused(tmp_path: Path) -> None:
    models, cache = _copy(tmp_path), tmp_path / "cache"
    first, hits, n = _run(models, cache)
    assert (hits, n) == (0, 13)  # 5 modes + 8 lost-wakeup param choices
    again, hits, _ = _run(models, cache)
    assert hits == n
    assert again == first  # every verdict, trace and count (timings are not compared)
    assert render_run(RunResult(tuple(again))) == render_run(RunResult(tuple(first)))
    assert (cache / ".gitignore").read_text().strip().endswith("*")


@pytest.mark.slow
def test_a_changed_file_is_checked_again_and_only_what_reads_it(tmp_path: Path) -> None:
    models, cache = _copy(tmp_path), tmp_path / "cache"
    _run(models, cache)
    # a race model reads only itself: the five mode models stay cached
    race = models / "races" / "lost-wakeup.yaml"
    race.write_text(race.read_text().replace("doc: The sleeper can be preempted", "doc: It can"))
    _, hits, n = _run(models, cache)
    assert (hits, n) == (5, 13)
    # the shared property file is read by every mode model (through _base.yaml's `check`)
    core = tmp_path / "properties" / "core.yaml"
    core.write_text(core.read_text() + "\n")
    _, hits, n = _run(models, cache)
    assert (hits, n) == (8, 13)


@pytest.mark.slow
def test_options_and_params_are_part_of_the_key(tmp_path: Path) -> None:
    models, cache = _copy(tmp_path), tmp_path / "cache"
    full = models / "full.yaml"
    _run(full, cache)
    assert _run(full, cache)[1] == 1
    assert _run(full, cache, max_states=100_000)[1] == 0  # another limit
    assert _run(full, cache, properties=("no-sleep-in-atomic",))[1] == 0
    assert _run(full, cache, overrides={"MAXNEST": "1"})[1] == 0  # another param value
    assert _run(full, cache, overrides={"MAXNEST": "1"})[1] == 1


def test_a_damaged_entry_is_ignored_and_rewritten(tmp_path: Path) -> None:
    models, cache = _copy(tmp_path), tmp_path / "cache"
    full = models / "full.yaml"
    (first,), _, _ = _run(full, cache)
    entries = list(cache.glob("*/*.pickle"))
    assert len(entries) == 1
    entries[0].write_bytes(b"not a pickle")
    (again,), hits, _ = _run(full, cache)
    assert hits == 0
    assert again == first
    assert _run(full, cache)[1] == 1


def test_inconclusive_by_timeout_is_never_stored(tmp_path: Path) -> None:
    models, cache = _copy(tmp_path), tmp_path / "cache"
    c = ResultCache(cache)
    (result,), _, _ = _run(models / "full.yaml", tmp_path / "other")
    stats = dataclasses.replace(result.stats, limit="timeout after 1 s", complete=False)
    timed_out = dataclasses.replace(result, stats=stats)
    c.put("ab" * 32, timed_out)
    assert c.get("ab" * 32) is None


def test_cli_reuses_results_and_no_cache_checks_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from preemptcheck.cli.main import app

    models = _copy(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PREEMPTCHECK_CACHE_DIR")  # the default: the user's cache directory
    monkeypatch.delenv("PREEMPTCHECK_CACHE")  # on by default
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    runner = CliRunner()
    first = runner.invoke(app, ["verify", str(models / "full.yaml")])
    assert first.exit_code == 0
    assert "reused" not in first.stderr
    assert (tmp_path / "xdg" / "preemptcheck" / ".gitignore").exists()
    assert not (tmp_path / ".preemptcheck_cache").exists()  # never in the checkout
    again = runner.invoke(app, ["verify", str(models / "full.yaml")])
    assert again.exit_code == 0
    assert again.stdout == first.stdout  # the same report, byte for byte
    assert f"1 of 1 model runs reused from {tmp_path / 'xdg' / 'preemptcheck'}" in again.stderr
    forced = runner.invoke(app, ["verify", str(models / "full.yaml"), "--no-cache"])
    assert forced.stdout == first.stdout
    assert "reused" not in forced.stderr


def test_a_liveness_verdict_cut_by_the_timeout_is_never_stored(tmp_path: Path) -> None:
    # the search can finish while the state graph for leads_to is cut by --timeout: the
    # verdict then depends on the machine's speed although stats.limit is None
    models = _copy(tmp_path)
    one = {"order": "correct", "preempt_blocks": "false", "waker": "ordered"}
    (result,), _, _ = _run(models / "races" / "lost-wakeup.yaml", tmp_path / "other", overrides=one)
    assert result.stats.limit is None
    props = tuple(
        dataclasses.replace(p, reason="timeout after 1 s")
        if p.id == "sleeper-eventually-woken"
        else p
        for p in result.properties
    )
    c = ResultCache(tmp_path / "cache")
    c.put("cd" * 32, dataclasses.replace(result, properties=props))
    assert c.get("cd" * 32) is None
    c.put("cd" * 32, result)
    assert c.get("cd" * 32) == result


def _entry_of(cache: Path) -> Path:
    (entry,) = cache.glob("*/*.pickle")
    return entry


@pytest.mark.slow
@pytest.mark.parametrize(
    ("damage", "note"),
    [
        ("truncated", "is damaged or truncated (its checksum differs)"),
        ("flipped", "is damaged or truncated (its checksum differs)"),
        ("empty", "is not a preemptcheck results-cache entry"),
        ("bare-pickle", "is not a preemptcheck results-cache entry"),  # the format before 2
        ("other-key", "belongs to another model run (its key differs)"),
        ("other-key-renamed", "belongs to another model run (its key differs)"),
        ("forged-not-a-result", "does not hold a model result"),
        ("forged-bad-pickle", "cannot be unpickled (UnpicklingError)"),
    ],
)
def test_a_bad_entry_is_ignored_with_a_note_never_believed(
    tmp_path: Path, damage: str, note: str
) -> None:
    """Each kind of damage: the entry is not believed (the verdicts are a fresh run's), the
    run says so in a note, and the entry is rewritten, so the next run reuses it."""
    import hashlib
    import pickle

    models, cache = _copy(tmp_path), tmp_path / "cache"
    full, lazy = models / "full.yaml", models / "lazy.yaml"
    (first,), _, _ = _run(full, cache)
    entry = _entry_of(cache)
    data = entry.read_bytes()
    header, _, payload = data.partition(b"\n")
    magic, fmt, key, _ = header.split(b" ")
    other_cache = tmp_path / "other"
    (lazy_result,), _, _ = _run(lazy, other_cache)
    lazy_entry = _entry_of(other_cache)

    def forged(obj_payload: bytes) -> bytes:  # a well-formed entry for this key
        digest = hashlib.sha256(obj_payload).hexdigest().encode()
        return b" ".join((magic, fmt, key, digest)) + b"\n" + obj_payload

    if damage == "truncated":
        entry.write_bytes(data[: len(data) // 2])
    elif damage == "flipped":
        entry.write_bytes(data[:-10] + bytes([data[-10] ^ 0xFF]) + data[-9:])
    elif damage == "empty":
        entry.write_bytes(b"")
    elif damage == "bare-pickle":
        entry.write_bytes(payload)
    elif damage == "other-key":  # the lazy model's result, copied over the full model's
        entry.write_bytes(lazy_entry.read_bytes())
    elif damage == "other-key-renamed":  # ... with its header's key edited too
        entry.write_bytes(lazy_entry.read_bytes().replace(lazy_entry.stem.encode(), b"x" * 64))
    elif damage == "forged-not-a-result":
        entry.write_bytes(forged(pickle.dumps({"verdict": "holds"})))
    else:
        entry.write_bytes(forged(b"\x80\x05not really a pickle"))
    options = Options(cache_dir=str(cache))
    run = check_paths([str(full)], options)
    (again,) = run.models
    assert isinstance(again, ModelResult)
    assert not again.cached
    assert again == first != lazy_result
    (line,) = run.notes
    assert line == f"note: results cache: {entry} {note}: ignored, the model is checked again"
    rerun = check_paths([str(full)], options)
    assert rerun.notes == ()
    assert rerun.models[0].cached  # rewritten


def test_the_cli_prints_cache_notes_on_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from preemptcheck.cli.main import app

    models, cache = _copy(tmp_path), tmp_path / "cache"
    monkeypatch.setenv("PREEMPTCHECK_CACHE", "1")
    monkeypatch.setenv("PREEMPTCHECK_CACHE_DIR", str(cache))
    runner = CliRunner()
    first = runner.invoke(app, ["verify", str(models / "full.yaml")])
    _entry_of(cache).write_bytes(b"garbage")
    again = runner.invoke(app, ["verify", str(models / "full.yaml")])
    assert again.exit_code == 0
    assert again.stdout == first.stdout
    assert "is not a preemptcheck results-cache entry: ignored" in again.stderr


def test_every_option_declares_whether_results_depend_on_it() -> None:
    """The cache key is built from the options declared `keyed` beside their definition
    (checking/options.py): a new option must choose; a keyed one changes the key, an
    unkeyed one (how a run is done or reported) does not."""
    import dataclasses

    from preemptcheck.checking.options import Backend, Engine, Options

    fields = {f.name: f.metadata.get("keyed") for f in dataclasses.fields(Options)}
    assert all(isinstance(v, bool) for v in fields.values()), fields
    base = Options()
    changed = {
        "properties": ("x",), "max_states": 5, "timeout": 1.0, "fail_fast": True,
        "symmetry": True, "engine": Engine.symbolic, "bound": 3, "rlimit": 7,
        "work_limit": 9, "backend": Backend.native, "max_memory": 1 << 20,
        "overrides": {"NCPU": "3"}, "strict": True, "cache_dir": "/x", "all_modes": True,
        "workers": 2, "all_cpus": True, "cluster": "local:2",
    }  # fmt: skip
    assert set(changed) == set(fields)  # every option is tried here
    for name, value in changed.items():
        other = dataclasses.replace(base, **{name: value})
        assert (other.keyed_settings() != base.keyed_settings()) == fields[name], name
    assert {n for n, k in fields.items() if not k} == {
        "overrides",
        "strict",
        "cache_dir",
        "all_modes",
        "workers",
        "cluster",
    }
