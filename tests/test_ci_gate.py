"""The CI gate as users copy it (issue 6, item 4): the GitHub Actions workflow in
examples/github-actions/ and the pre-commit hook in .pre-commit-hooks.yaml, their exact
commands run in a temporary repository of models with a clean commit and a buggy change."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import jsonschema
import pytest
import yaml
from junitparser import JUnitXml
from packaging.requirements import Requirement

from conftest import without_monitors

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / "examples" / "github-actions" / "preemptcheck.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
BIN = str(Path(sys.executable).parent)  # where the installed `preemptcheck` command is

# A bug that keeps the state space small: preempt_enable() no longer preempts in FULL.
CLEAN = "      schedule_from: preempt_schedule if preemption and pc == 1 and not irqs_off else none"
BUGGY = "      schedule_from: none"


def _git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
    }
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, text=True, capture_output=True
    ).stdout


@pytest.fixture
def pull_request(tmp_path: Path) -> Path:
    """A clone whose origin/main holds clean models, with a buggy change on a branch."""
    upstream = tmp_path / "upstream"
    (upstream / "models").mkdir(parents=True)
    for name in ("_base", "full"):
        shutil.copy(ROOT / "models" / f"{name}.yaml", upstream / "models")
    shutil.copytree(ROOT / "properties", upstream / "properties")
    without_monitors(upstream / "models")
    (upstream / "README.md").write_text("models\n")
    _git(upstream, "init", "-q", "-b", "main")
    _git(upstream, "add", "-A")
    _git(upstream, "commit", "-q", "-m", "clean models")
    clone = tmp_path / "clone"
    _git(tmp_path, "clone", "-q", str(upstream), str(clone))
    _git(clone, "checkout", "-q", "-b", "change")
    base = clone / "models" / "_base.yaml"
    text = base.read_text()
    assert CLEAN in text
    base.write_text(text.replace(CLEAN, BUGGY))
    _git(clone, "commit", "-q", "-am", "preempt_enable forgets to preempt")
    return clone


def _run_step(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A `run:` step as GitHub runs it: bash -e -o pipefail, with the job's environment."""
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", command],
        cwd=cwd,
        env=env,
        text=True,
        capture_output=True,
    )


@pytest.mark.slow
def test_workflow_runs_only_on_model_changes_and_its_commands_gate_the_change(
    pull_request: Path, tmp_path: Path
) -> None:
    flow = yaml.safe_load(WORKFLOW.read_text())
    triggers = flow.get("on", flow.get(True))  # PyYAML reads a bare `on` as YAML 1.1 true
    for event in ("pull_request", "push"):
        assert triggers[event]["paths"] == ["models/**", "properties/**"]
    steps = flow["jobs"]["verify"]["steps"]
    runs = [s for s in steps if "run" in s]
    install, verify, diff = runs
    assert install["run"].startswith("pip install ")
    summary = tmp_path / "summary.md"
    env = {
        **os.environ,
        "PATH": BIN + os.pathsep + os.environ["PATH"],
        "GITHUB_ACTIONS": "true",
        "GITHUB_BASE_REF": "main",
        "GITHUB_STEP_SUMMARY": str(summary),
        "CI": "true",
    }
    # as on a runner: the cache is on, in the user's cache directory under HOME
    for var in ("PREEMPTCHECK_CACHE", "PREEMPTCHECK_CACHE_DIR", "XDG_CACHE_HOME"):
        env.pop(var, None)
    env["HOME"] = str(tmp_path / "home")

    done = _run_step(verify["run"], pull_request, env)
    assert done.returncode == 1, done.stdout + done.stderr  # the change breaks a property
    # annotations on the YAML line of the broken property
    annotations = [line for line in done.stdout.splitlines() if line.startswith("::error ")]
    assert any(
        "file=properties/core.yaml" in a and "preempt-now-is-taken" in a for a in annotations
    ), annotations
    junit = (pull_request / "preemptcheck-junit.xml").read_text()
    assert "<failure" in junit
    sarif = json.loads((pull_request / "preemptcheck.sarif").read_text())
    schema = json.loads((ROOT / "tests" / "fixtures" / "sarif-schema-2.1.0.json").read_text())
    assert not list(jsonschema.Draft4Validator(schema).iter_errors(sarif))
    (result,) = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "preempt-now-is-taken"]
    # at the property's line in properties/core.yaml, the breaking step at its action's line
    core = (pull_request / "properties" / "core.yaml").read_text().splitlines()
    place = result["locations"][0]["physicalLocation"]
    assert place["artifactLocation"]["uri"] == "properties/core.yaml"
    assert core[place["region"]["startLine"] - 1].strip() == "preempt-now-is-taken:"
    base = (pull_request / "models" / "_base.yaml").read_text().splitlines()
    (related,) = result["relatedLocations"]
    step = related["message"]["text"].split(": ")[1].split("@")[0]  # "step 7: ACTION@cpu0"
    assert related["physicalLocation"]["artifactLocation"]["uri"] == "models/_base.yaml"
    assert base[related["physicalLocation"]["region"]["startLine"] - 1].strip() == f"{step}:"
    # JUnit: one case per model run x property, read with a standard JUnit reader
    cases = [
        case
        for suite in JUnitXml.fromfile(str(pull_request / "preemptcheck-junit.xml"))
        for case in suite
    ]
    full = subprocess.run(
        [f"{BIN}/preemptcheck", "verify", "models/", "--format", "json", "--no-cache"],
        cwd=pull_request,
        text=True,
        capture_output=True,
    )
    doc = json.loads(full.stdout)
    assert len(cases) == sum(len(m["properties"]) for m in doc["models"])
    # the pull-request step: its `if` and the regression in the job summary
    assert "pull_request" in diff["if"]
    assert "always()" in diff["if"]
    done = _run_step(diff["run"], pull_request, env)
    assert done.returncode == 1, done.stdout + done.stderr
    text = summary.read_text()
    assert text.startswith("### preemptcheck diff")
    assert re.search(r"\*\*\d+ regressions?", text)
    assert "`preempt-now-is-taken`" in text
    # the cache the workflow keeps between runs
    cache = next(s for s in steps if s.get("uses", "").startswith("actions/cache"))
    assert cache["with"]["path"] == "~/.cache/preemptcheck"
    assert (tmp_path / "home" / ".cache" / "preemptcheck" / ".gitignore").exists()
    # the SARIF upload step reads the file the verify step wrote
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action"))
    assert upload["with"]["sarif_file"] in verify["run"]


def _pip_arguments(command: str, preemptcheck: str) -> list[str]:
    """What the install step passes to pip, with the repository variable PREEMPTCHECK
    (empty when it is not set, as GitHub expands an unset `vars.NAME`)."""
    stub = 'pip() { printf "%s\\0" "$@"; }\n'  # a shell function: nothing is installed
    env = {**os.environ, "PREEMPTCHECK": preemptcheck}
    done = _run_step(stub + command, ROOT, env)
    assert done.returncode == 0, done.stderr
    return done.stdout.split("\0")[:-1]


def test_workflow_installs_preemptcheck_from_its_git_repository_before_pypi() -> None:
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["verify"]["steps"]
    (install,) = [s for s in steps if s.get("name") == "Install preemptcheck"]
    assert install["env"] == {"PREEMPTCHECK": "${{ vars.PREEMPTCHECK }}"}
    # unset: preemptcheck's git repository at a release tag
    pip, default = _pip_arguments(install["run"], "")
    assert pip == "install"
    requirement = Requirement(default)
    assert requirement.name == "preemptcheck"
    assert requirement.url is not None
    assert re.fullmatch(r"git\+https://[^@]+/preemptcheck(\.git)?@v[\d.]+", requirement.url)
    # set: any one pip requirement, passed whole (tests/test_packaging.py installs a git
    # repository at a tag this way)
    given = "preemptcheck @ https://example.org/preemptcheck-0.1.0-py3-none-any.whl"
    assert _pip_arguments(install["run"], given) == ["install", given]


def test_pre_commit_hook_installs_this_repository_with_pip() -> None:
    """`language: python`: pre-commit installs the hook's repository with `pip install .`
    (tests/test_packaging.py builds and installs it) and runs `entry` from that install."""
    (hook,) = yaml.safe_load(HOOKS.read_text())
    assert hook["language"] == "python"
    assert "additional_dependencies" not in hook  # the repository's own dependencies
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert hook["entry"].split()[0] in scripts


@pytest.mark.slow
def test_pre_commit_hook_checks_the_models(pull_request: Path) -> None:
    (hook,) = yaml.safe_load(HOOKS.read_text())
    assert hook["id"] == "preemptcheck"
    assert hook["pass_filenames"] is False
    files = re.compile(hook["files"])
    assert files.search("models/full.yaml")
    assert files.search("properties/core.yaml")
    assert not files.search("README.md")
    env = {**os.environ, "PATH": BIN + os.pathsep + os.environ["PATH"]}
    done = _run_step(hook["entry"], pull_request, env)
    assert done.returncode == 1  # the buggy change
    assert "FAIL  preempt-now-is-taken" in done.stdout
    _git(pull_request, "checkout", "-q", "main")
    done = _run_step(hook["entry"], pull_request, env)
    assert done.returncode == 0, done.stdout


def test_readme_shows_the_workflow_file_as_it_is() -> None:
    text = WORKFLOW.read_text()
    assert text[text.index("name: preemptcheck") :] in (ROOT / "README.md").read_text()
