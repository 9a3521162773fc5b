"""Headless Chromium for the tests, driven over the DevTools protocol on a pipe (stdlib only)."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
NOT_FOUND = (
    "headless Chromium not found: run .ci/install-optional (Debian: apt-get install chromium)"
)
TIMEOUT = 30.0  # seconds for any one reply or event: a hung browser fails the test
WIDTH, HEIGHT = 1280, 900


class BrowserError(AssertionError):
    """The browser did not answer in time, died, or refused a command."""


class BrowserUnavailable(Exception):
    """No browser here, or it would not start: the tests skip."""


def find_chromium() -> str | None:
    for name in CANDIDATES:
        if path := shutil.which(name):
            return path
    return None


@dataclass(frozen=True, slots=True)
class Box:
    """An element's rectangle in CSS pixels, relative to the viewport, and the scroll offset."""

    x: float
    y: float
    width: float
    height: float
    scroll_x: float
    scroll_y: float

    def in_viewport(self) -> bool:
        return (
            self.width > 0
            and self.height > 0
            and self.x >= 0
            and self.y >= 0
            and self.x + self.width <= WIDTH
            and self.y + self.height <= HEIGHT
        )


class Browser:
    """One Chromium process. The DevTools pipe: it reads NUL-terminated JSON commands on
    its fd 3 and writes replies and events on its fd 4."""

    def __init__(self, executable: str) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="chromium-", ignore_cleanup_errors=True)
        self.log = Path(self._tmp.name) / "stderr.log"
        # ours -> its fd 3, its fd 4 -> ours; moved above 10 so the dup2s below cannot clash
        to_r, to_w = (_high(fd) for fd in os.pipe())
        from_r, from_w = (_high(fd) for fd in os.pipe())
        args = [
            executable,
            "--headless",
            "--remote-debugging-pipe",
            *(["--no-sandbox"] if os.geteuid() == 0 else []),
            "--disable-gpu",
            f"--user-data-dir={self._tmp.name}/profile",
            f"--window-size={WIDTH},{HEIGHT}",
            "--force-device-scale-factor=1",
            "--force-color-profile=srgb",  # screenshot pixels are the page's colours
            "--hide-scrollbars",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-default-apps",
            "--disable-extensions",
            "--disable-sync",
            "--disable-dev-shm-usage",  # containers often have a small /dev/shm
            "--mute-audio",
            "--host-resolver-rules=MAP * ~NOTFOUND",  # nothing reaches the network
            "about:blank",
        ]
        # subprocess can only pass a descriptor under its own number; posix_spawn's dup2
        # puts the pipe where Chromium looks for it, and setsid gives it a process group
        # of its own, so closing kills its renderer and GPU processes with it
        log = os.open(self.log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            self.pid = os.posix_spawn(
                executable,
                args,
                os.environ,
                file_actions=[
                    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                    (os.POSIX_SPAWN_DUP2, log, 1),
                    (os.POSIX_SPAWN_DUP2, log, 2),
                    (os.POSIX_SPAWN_DUP2, to_r, 3),
                    (os.POSIX_SPAWN_DUP2, from_w, 4),
                ],
                setsid=True,
            )
        finally:
            for fd in (log, to_r, from_w):
                os.close(fd)
        self._w, self._r = to_w, from_r
        self._buf = b""
        self._next_id = 0
        self._replies: dict[int, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self._exited = False

    # the protocol

    def send(
        self, method: str, params: dict[str, Any] | None = None, *, session: str | None = None
    ) -> dict[str, Any]:
        """Send a command and return its result (an error reply raises BrowserError)."""
        ident = self._post(method, params, session)
        self.wait(lambda: ident in self._replies, f"the reply to {method}")
        reply = self._replies.pop(ident)
        if "error" in reply:
            raise BrowserError(f"{method}: {reply['error'].get('message')}")
        result: dict[str, Any] = reply.get("result", {})
        return result

    def _post(self, method: str, params: dict[str, Any] | None, session: str | None) -> int:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self._w, data) :]
        return self._next_id

    def wait(self, done: Any, what: str, timeout: float = TIMEOUT) -> None:
        """Read messages until done() is true, at most `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not done():
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._r], [], [], left)[0]:
                raise BrowserError(f"no answer from Chromium in {timeout:.0f} s: {what}")
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise BrowserError(f"Chromium closed its pipe waiting for {what}: {self.tail()}")
            self._buf += chunk
            *messages, self._buf = self._buf.split(b"\0")
            for raw in messages:
                message = json.loads(raw)
                if "id" in message:
                    self._replies[message["id"]] = message
                else:
                    self.events.append(message)

    def tail(self) -> str:
        """The end of Chromium's own log, for messages."""
        try:
            return " | ".join(self.log.read_text(errors="replace").splitlines()[-8:])
        except OSError:
            return "(no log)"

    # pages

    @contextlib.contextmanager
    def page(self) -> Iterator[Page]:
        """A new tab, closed at the end."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        try:
            session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
                "sessionId"
            ]
            page = Page(self, session)
            for domain in ("Page", "Runtime", "Log", "Network"):
                page.send(f"{domain}.enable")
            page.send(
                "Emulation.setDeviceMetricsOverride",
                {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False},
            )
            yield page
        finally:
            with contextlib.suppress(BrowserError, OSError):
                self.send("Target.closeTarget", {"targetId": target})

    # the process

    def close(self) -> None:
        """Ask the browser to quit, then kill its process group whatever it said."""
        if self._exited:
            return
        os.set_blocking(self._w, False)  # a hung browser that reads nothing cannot block us
        with contextlib.suppress(OSError):
            self._post("Browser.close", None, None)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and os.waitpid(self.pid, os.WNOHANG) == (0, 0):
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)  # its group: the renderers and helpers
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        self._exited = True
        for fd in (self._w, self._r):
            os.close(fd)
        self._tmp.cleanup()


def _high(fd: int) -> int:
    import fcntl

    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return new


class Page:
    """A tab attached as a flat session: every message of the tab carries its sessionId."""

    def __init__(self, browser: Browser, session: str) -> None:
        self.browser, self.session = browser, session

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.browser.send(method, params, session=self.session)

    def _events(self, method: str | None = None) -> list[dict[str, Any]]:
        return [
            e
            for e in self.browser.events
            if e.get("sessionId") == self.session and method in (None, e["method"])
        ]

    def goto(self, url: str) -> None:
        """Navigate and wait for the load event."""
        seen = len(self._events("Page.loadEventFired"))
        result = self.send("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise BrowserError(f"navigating to {url}: {result['errorText']}")
        self.browser.wait(
            lambda: len(self._events("Page.loadEventFired")) > seen, f"the load event of {url}"
        )

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression (awaited if it is a promise)."""
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise BrowserError(f"evaluating {expression!r}: {text}")
        return result["result"].get("value")

    def wait_until(self, expression: str, what: str, timeout: float = TIMEOUT) -> None:
        """Poll a JavaScript expression until it is true (a smooth scroll takes a while)."""
        deadline = time.monotonic() + timeout
        while not self.evaluate(expression):
            if time.monotonic() > deadline:
                raise BrowserError(f"not within {timeout:.0f} s: {what}")
            time.sleep(0.05)

    def click(self, box: Box) -> None:
        """A left click in the middle of `box`, as a mouse would."""
        x, y = box.x + box.width / 2, box.y + box.height / 2
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.send(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1},
            )

    def box(self, selector: str, *, scroll: bool = False) -> Box | None:
        """The bounding box of the first element `selector` matches (None: no such element),
        after scrolling it to the middle of the viewport if `scroll`."""
        value = self.evaluate(
            f"""(() => {{
                const e = document.querySelector({json.dumps(selector)});
                if (!e) return null;
                if ({json.dumps(scroll)}) e.scrollIntoView({{block: "center", inline: "center"}});
                const r = e.getBoundingClientRect();
                return [r.x, r.y, r.width, r.height, window.scrollX, window.scrollY];
            }})()"""
        )
        return None if value is None else Box(*value)

    def screenshot(self, clip: Box | None = None) -> bytes:
        """A PNG of the viewport, or of the box `clip` (clipped to the viewport)."""
        params: dict[str, Any] = {"format": "png"}
        if clip is not None:
            x0, y0 = max(clip.x, 0), max(clip.y, 0)
            x1, y1 = min(clip.x + clip.width, WIDTH), min(clip.y + clip.height, HEIGHT)
            assert x1 > x0, f"{clip} is outside the viewport"
            assert y1 > y0, f"{clip} is outside the viewport"
            params["clip"] = {
                "x": x0 + clip.scroll_x,  # the clip is in page coordinates
                "y": y0 + clip.scroll_y,
                "width": x1 - x0,
                "height": y1 - y0,
                "scale": 1,
            }
        return base64.b64decode(self.send("Page.captureScreenshot", params)["data"])

    def requests(self) -> list[str]:
        """Every URL the page asked for."""
        return [e["params"]["request"]["url"] for e in self._events("Network.requestWillBeSent")]

    def problems(self) -> list[str]:
        """What a person with the developer tools open would call a problem: console errors
        and warnings, uncaught exceptions, error log entries, failed loads, and any request
        that leaves the machine (the reports are self-contained)."""
        out = []
        for e in self._events():
            method, p = e["method"], e.get("params", {})
            if method == "Runtime.consoleAPICalled" and p["type"] in ("error", "warning", "assert"):
                args = " ".join(str(a.get("value", a.get("description", ""))) for a in p["args"])
                out.append(f"console.{p['type']}: {args}")
            elif method == "Runtime.exceptionThrown":
                d = p["exceptionDetails"]
                out.append(f"exception: {d.get('exception', {}).get('description') or d['text']}")
            elif method == "Log.entryAdded" and p["entry"]["level"] == "error":
                out.append(f"log: {p['entry']['text']} ({p['entry'].get('url', '')})")
            elif method == "Network.loadingFailed":
                out.append(f"failed load: {p.get('errorText')} ({p.get('requestId')})")
        out += [f"request off the machine: {u}" for u in self.requests() if not _local(u)]
        return out


def _local(url: str) -> bool:
    return url.startswith(("file:", "data:", "about:"))


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    """A started browser, killed at the end; BrowserUnavailable when there is none here or
    it does not start."""
    executable = find_chromium()
    if executable is None:
        raise BrowserUnavailable(NOT_FOUND)
    try:
        browser = Browser(executable)
    except OSError as e:
        raise BrowserUnavailable(f"headless Chromium ({executable}) did not start: {e}") from e
    try:
        try:
            browser.send("Browser.getVersion")
        except BrowserError as e:
            raise BrowserUnavailable(f"headless Chromium ({executable}) did not start: {e}") from e
        yield browser
    finally:
        browser.close()


def browser_fixture() -> Iterator[Browser]:
    """The body of a module-scoped fixture: one browser for the module, or a skip."""
    try:
        with chromium() as browser:
            yield browser
    except BrowserUnavailable as e:
        pytest.skip(str(e))
