"""`--cluster SPEC`: what it names, and a Ray connection for the length of one run.

A spec is `local` (a Ray instance started on this machine with one worker per CPU),
`local:N` (N workers), `auto` (the cluster `ray start` runs on this machine), or an
address: `HOST:PORT` (a cluster's head, as `ray start --head` prints it) or
`ray://HOST:PORT` (Ray Client). `connected` starts or joins it and always shuts down what
it started; a process already connected to Ray (a library caller that ran `ray.init`)
keeps its connection.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from preemptcheck.core.errors import Code, Diagnostic, UsageError

INSTALL_HINT = "pip install 'preemptcheck[cluster]'"
MAX_LOCAL_WORKERS = 1024
_HOST_PORT = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(?P<port>\d{1,5})")


@dataclass(frozen=True, slots=True)
class ClusterSpec:
    """What `--cluster` names: a local instance of `workers` CPUs, or a cluster's address."""

    text: str  # as given, for messages
    local: bool
    workers: int | None = None  # local: how many (None: this machine's CPUs)
    address: str | None = None  # not local: `auto`, `HOST:PORT` or `ray://HOST:PORT`

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class ClusterInfo:
    """A connected cluster: how many workers (CPUs) the run may use, and where it is."""

    spec: ClusterSpec
    workers: int
    address: str  # where the driver is connected (Ray's address of the instance)
    started: bool  # this run started the instance (and shuts it down)
    # what runs on the connection keep for the next (the search's actors), and how to end it
    kept: dict[str, Any] = field(default_factory=dict, compare=False)
    closers: list[Callable[[], None]] = field(default_factory=list, compare=False)

    def close(self) -> None:
        """End what the runs kept (before a shut-down, or on a connection left up)."""
        while self.closers:
            with contextlib.suppress(Exception):
                self.closers.pop()()
        self.kept.clear()


def _bad(spec: str, why: str) -> UsageError:
    return UsageError(
        [
            Diagnostic(
                Code.BAD_OPTION,
                f"--cluster {spec!r}: {why}",
                hint="expected local, local:N, auto, HOST:PORT or ray://HOST:PORT",
            )
        ]
    )


def parse_cluster(spec: str) -> ClusterSpec:
    """The spec `spec` names; a UsageError (exit 2) says what is wrong with a bad one."""
    text = spec.strip()
    if not text:
        raise _bad(spec, "empty")
    if text == "local":
        return ClusterSpec(text, local=True)
    if text.startswith("local:"):
        count = text.removeprefix("local:").strip()
        if not count.isdigit() or not 1 <= int(count) <= MAX_LOCAL_WORKERS:
            raise _bad(spec, f"the number of local workers must be 1 to {MAX_LOCAL_WORKERS}")
        return ClusterSpec(text, local=True, workers=int(count))
    if text == "auto":
        return ClusterSpec(text, local=False, address="auto")
    scheme = "ray://" if text.startswith("ray://") else ""
    m = _HOST_PORT.fullmatch(text.removeprefix(scheme))
    if m is None:
        raise _bad(spec, "not a cluster address")
    if not 1 <= int(m["port"]) <= 65535:
        raise _bad(spec, f"port {m['port']} is not between 1 and 65535")
    return ClusterSpec(text, local=False, address=text)


def require_ray() -> Any:
    """The `ray` module; a UsageError (exit 2) naming the extra to install if it is missing."""
    try:
        import ray
    except ImportError:
        raise UsageError(
            [
                Diagnostic(
                    Code.BAD_OPTION,
                    "--cluster needs Ray, which is not installed",
                    hint=INSTALL_HINT,
                )
            ]
        ) from None
    return ray


def local_cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@contextlib.contextmanager
def connected(spec: ClusterSpec) -> Iterator[ClusterInfo]:
    """Ray connected to `spec` while inside: a local instance is started (and shut down on
    the way out, also on an error or Ctrl-C), an address is joined (and left)."""
    ray = require_ray()
    if ray.is_initialized():  # the caller's own connection: use it, leave it up
        info = ClusterInfo(spec, _workers(ray, spec), _address(ray), started=False)
        try:
            yield info
        finally:
            info.close()
        return
    if spec.local:
        n = spec.workers if spec.workers is not None else local_cpus()
        # on the loopback address: a local instance is this machine's alone
        kw: dict[str, Any] = {"address": "local", "num_cpus": n, "_node_ip_address": "127.0.0.1"}
    else:
        kw = {"address": spec.address}
    with _token_auth(spec):
        info = _init(ray, spec, kw)
    try:
        yield info
    finally:
        info.close()
        ray.shutdown()


def _init(ray: Any, spec: ClusterSpec, kw: dict[str, Any]) -> ClusterInfo:
    try:
        ray.init(
            **kw,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
        )
    except (ConnectionError, RuntimeError, ValueError, OSError) as exc:
        raise UsageError(
            [Diagnostic(Code.BAD_OPTION, f"--cluster {spec}: cannot connect to Ray: {exc}")]
        ) from None
    return ClusterInfo(spec, _workers(ray, spec), _address(ray), started=True)


@contextlib.contextmanager
def _token_auth(spec: ClusterSpec) -> Iterator[None]:
    """A cluster that `ray start` began (Ray 2.5x and later) authenticates with the token in
    ~/.ray/auth_token; a driver joining it sends the token only in token mode, which `ray
    start` turns on for itself but `ray.init` of an address does not: Ray's own switch for
    that, where this Ray has one (RAY_AUTH_MODE, when set, decides instead)."""
    if not spec.local:
        with contextlib.suppress(ImportError, AttributeError):
            from ray._private.authentication import authentication_token_setup as auth

            auth.maybe_enable_token_auth_if_token_available(warn_if_disabled=False)
    yield


def _workers(ray: Any, spec: ClusterSpec) -> int:
    """The workers a run uses: N for `local:N`, else every CPU the cluster has."""
    cpus = int(ray.cluster_resources().get("CPU", 0))
    if spec.local and spec.workers is not None:
        return spec.workers
    return max(cpus, 1)


def _address(ray: Any) -> str:
    context = ray.get_runtime_context()
    return str(getattr(context, "gcs_address", "") or "")


class _Lazy:
    """A connection made on first use and kept until the scope that made this ends."""

    def __init__(self, spec: ClusterSpec) -> None:
        self.spec = spec
        self.stack = contextlib.ExitStack()
        self.info: ClusterInfo | None = None
        self.failed: UsageError | None = None

    def get(self) -> ClusterInfo:
        if self.failed is not None:  # once: Ray takes about 20 s to give up on an address
            raise self.failed
        if self.info is None:
            try:
                self.info = self.stack.enter_context(connected(self.spec))
            except UsageError as exc:
                self.failed = exc
                raise
        return self.info


_scope: list[_Lazy] = []


@contextlib.contextmanager
def lazily(spec: ClusterSpec) -> Iterator[None]:
    """Within this, `session(spec)` connects once, on first use, for every run inside (a
    verify of many models pays Ray's start-up once, and none when every result is cached)."""
    lazy = _Lazy(spec)
    _scope.append(lazy)
    try:
        with lazy.stack:
            yield
    finally:
        _scope.remove(lazy)


@contextlib.contextmanager
def session(spec: ClusterSpec) -> Iterator[ClusterInfo]:
    """The connection of the innermost `lazily(spec)` scope, or one for this use alone."""
    if _scope and _scope[-1].spec == spec:
        yield _scope[-1].get()
        return
    with connected(spec) as info:
        yield info
