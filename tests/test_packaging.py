"""preemptcheck installs outside this repository (issue 17, item 9): `python -m build` makes
an sdist and, from it, a wheel; both install into a clean venv, with preemptcheck's
dependencies from PyPI (or pip's cache), and verify a bundled model from a folder outside the
repository. The GitHub workflow's install step installs it from a git repository at a tag,
as it does before preemptcheck is on PyPI."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
import yaml

from conftest import CALLERS_PIP_CACHE

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / "examples" / "github-actions" / "preemptcheck.yml"
SUMMARY = re.compile(r"^1 model, (\d+) properties: \1 as expected, 0 unexpected, 0 inconclusive$")
TAG = "v0.0.0-test"


def _clean_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a user's shell: no path into this checkout, none of preemptcheck's
    settings, a cache folder of its own."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("PREEMPTCHECK_")
        and name not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "XDG_CACHE_HOME"}
    }
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg-cache")
    # pip's download cache is the caller's (wheels already fetched to install the test
    # extra are not fetched again; pip checks what it takes from there)
    env["PIP_CACHE_DIR"] = CALLERS_PIP_CACHE
    return env


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        cmd, cwd=cwd, env=env, text=True, capture_output=True, timeout=600, check=False
    )
    assert done.returncode == 0, f"{cmd}\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done


def _checkout(tmp_path: Path, env: dict[str, str]) -> Path:
    """What a fresh clone of this repository would hold, with the working tree's changes:
    its tracked and new (not ignored) files, committed and tagged in a repository of its own
    (no build leftovers, no numba caches, no stale egg-info)."""
    listed = _run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT, env=env
    ).stdout
    copy = tmp_path / "preemptcheck"
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a file deleted in the working tree is still listed
            target = copy / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    _run([*git, "init", "-q", "-b", "main"], cwd=copy, env=env)
    _run([*git, "add", "-A"], cwd=copy, env=env)
    _run([*git, "commit", "-q", "-m", "release"], cwd=copy, env=env)
    _run([*git, "tag", TAG], cwd=copy, env=env)
    return copy


def _packages() -> set[str]:
    """Every package under src/, as a path inside the wheel (preemptcheck/engines/explicit)."""
    src = ROOT / "src"
    return {str(p.parent.relative_to(src)) for p in (src / "preemptcheck").rglob("__init__.py")}


def _check_wheel(wheel: Path, checkout: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in _packages():
        assert f"{package}/__init__.py" in names, package
    sources = {str(p.relative_to(checkout / "src")) for p in (checkout / "src").rglob("*.py")}
    assert sources == {n for n in names if n.endswith(".py")}  # every module, nothing else
    assert "preemptcheck/py.typed" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".nbi", ".nbc"))]
    info = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    scripts = zipfile.ZipFile(wheel).read(info).decode()
    assert "[console_scripts]\npreemptcheck = preemptcheck.cli.main:main\n" in scripts


def _check_sdist(sdist: Path) -> None:
    top = sdist.name.removesuffix(".tar.gz")
    with tarfile.open(sdist) as tar:
        names = {n.removeprefix(f"{top}/") for n in tar.getnames()}
    needed = {
        "pyproject.toml",
        "README.md",
        "src/preemptcheck/__init__.py",
        "src/preemptcheck/py.typed",
        "docs/result.schema.json",
        "models/lazy.yaml",
        "properties/core.yaml",
        "monitors/wip.dot",
    }
    assert needed <= names, needed - names
    schemas = {f"docs/{p.name}" for p in (ROOT / "docs").glob("*.schema.json")}
    assert schemas <= names, schemas - names
    assert not [n for n in names if n.startswith("tests/") or "__pycache__" in n]


def _verify(venv: Path, model: Path, cwd: Path, env: dict[str, str]) -> None:
    done = _run([str(venv / "bin" / "preemptcheck"), "verify", str(model)], cwd=cwd, env=env)
    assert SUMMARY.match(done.stdout.splitlines()[-1]), done.stdout[-2000:]


@pytest.mark.slow
def test_the_release_builds_installs_in_a_clean_venv_and_verifies_a_bundled_model(
    tmp_path: Path,
) -> None:
    env = _clean_env(tmp_path)
    checkout = _checkout(tmp_path, env)
    dist = tmp_path / "dist"
    # without --sdist/--wheel, build makes the sdist and then the wheel from the unpacked
    # sdist: the sdist holds all the build needs
    _run([sys.executable, "-m", "build", "--outdir", str(dist)], cwd=checkout, env=env)
    (sdist,) = dist.glob("preemptcheck-*.tar.gz")
    (wheel,) = dist.glob("preemptcheck-*-py3-none-any.whl")
    _check_wheel(wheel, checkout)
    _check_sdist(sdist)

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path, env=env)
    away = tmp_path / "elsewhere"  # no models/, no src/, no pyproject.toml here
    away.mkdir()
    venv_env = {**env, "PATH": f"{venv / 'bin'}{os.pathsep}{env['PATH']}"}
    reinstall = [str(venv / "bin" / "pip"), "install", "--no-deps", "--force-reinstall"]

    python = str(venv / "bin" / "python")
    version = wheel.name.split("-")[1]

    # 1. the workflow's install step, as before a release on PyPI: from a git repository at
    # a tag (here a local one), with the dependencies from PyPI
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["verify"]["steps"]
    (install,) = [s for s in steps if s.get("name") == "Install preemptcheck"]
    # a bare URL: the `name @ url` form needs a host in the URL for pip < 24
    requirement = f"git+{checkout.as_uri()}@{TAG}"
    _run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", install["run"]],
        cwd=away,
        env={**venv_env, "PREEMPTCHECK": requirement},
    )
    where = [python, "-c", "import preemptcheck; print(preemptcheck.__file__)"]
    found = Path(_run(where, cwd=away, env=env).stdout.strip())
    assert found.is_relative_to(venv), found  # the installed copy, not this checkout
    done = _run([str(venv / "bin" / "preemptcheck"), "--version"], cwd=away, env=env)
    assert done.stdout == f"preemptcheck {version}\n"

    # 2. the sdist (pip builds it again, in a clean build environment) and the models it
    # carries; 3. the wheel, which checks one of them (one model run: a few seconds)
    _run([*reinstall, str(sdist)], cwd=away, env=env)
    done = _run([python, "-m", "preemptcheck", "--version"], cwd=away, env=env)
    assert done.stdout == f"preemptcheck {version}\n"
    with tarfile.open(sdist) as tar:
        tar.extractall(tmp_path / "unpacked", filter="data")
    unpacked = tmp_path / "unpacked" / sdist.name.removesuffix(".tar.gz")
    _run([*reinstall, str(wheel)], cwd=away, env=env)
    _verify(venv, unpacked / "models" / "lazy.yaml", away, env)
