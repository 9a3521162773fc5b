"""Ctrl-C and SIGTERM: a run stops at its next safe point and reports what it decided.

While `handling()` is active, the first SIGINT or SIGTERM only records the signal: the
engines poll `requested()` where they poll their timeouts and stop as if a limit were
reached, so every decided verdict is kept and the rest are inconclusive. A solver busy in
native code (z3) does not run Python's handlers until it returns, so the C-level handler's
wakeup byte is read by a watcher thread that calls the cancel callbacks the engine
registered with `cancelling()`. A second signal stops at once (KeyboardInterrupt).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType

# exit status of a run stopped by a signal, as shells report it: 128 + the signal number
SIGNALS = (signal.SIGINT, signal.SIGTERM)
EXIT_STATUS = {s.name: 128 + s.value for s in SIGNALS}  # SIGINT 130, SIGTERM 143

_requested: signal.Signals | None = None
_handled = 0  # signals Python's handler has seen in this run
_cancels: list[Callable[[], None]] = []
_lock = threading.Lock()


class Stopped(KeyboardInterrupt):
    """Raised by a signal that stops a run at once; `status` is the exit status it calls for."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.status = EXIT_STATUS[signal.Signals(signum).name]


def requested() -> str | None:
    """The name of the signal that asked the run to stop (SIGINT, SIGTERM), or None."""
    return _requested.name if _requested is not None else None


def reason() -> str:
    """How an engine's limit reads when a signal stopped it."""
    return f"interrupted by {requested()}"


@contextlib.contextmanager
def cancelling(cancel: Callable[[], None]) -> Iterator[None]:
    """Call `cancel` (from another thread) if a stop is requested while inside."""
    with _lock:
        _cancels.append(cancel)
        stop_now = _requested is not None
    if stop_now:
        cancel()
    try:
        yield
    finally:
        with _lock:
            _cancels.remove(cancel)


def _stop(signum: int) -> None:
    global _requested
    with _lock:
        if _requested is None:
            _requested = signal.Signals(signum)
        cancels = list(_cancels)
    for cancel in cancels:
        cancel()


@contextlib.contextmanager
def handling() -> Iterator[None]:
    """Install the handlers for one run (main thread only; elsewhere a no-op)."""
    global _requested, _handled
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _requested, _handled = None, 0

    def handler(signum: int, frame: FrameType | None) -> None:
        global _handled
        _handled += 1
        if _handled > 1:  # the second signal: stop now, with the first one's status
            raise Stopped(_requested or signum)
        _stop(signum)

    previous = {s: signal.signal(s, handler) for s in SIGNALS}
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    old_wakeup = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    watcher = threading.Thread(target=_watch, args=(read_fd,), daemon=True)
    watcher.start()
    try:
        yield
    finally:
        signal.set_wakeup_fd(old_wakeup)
        for s, h in previous.items():
            signal.signal(s, h)
        os.close(write_fd)  # the watcher reads end-of-file and ends
        watcher.join()
        os.close(read_fd)
        _requested = None


@contextlib.contextmanager
def abrupt() -> Iterator[None]:
    """For commands whose partial answer would mislead (a diff of half-checked revisions):
    SIGTERM, like Ctrl-C, raises Stopped at once, so clean-ups in `finally` run."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise Stopped(signum)

    previous = {s: signal.signal(s, handler) for s in SIGNALS}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def _watch(read_fd: int) -> None:
    while True:
        data = os.read(read_fd, 16)
        if not data:
            return
        for signum in data:
            if signum in SIGNALS:
                _stop(signum)
