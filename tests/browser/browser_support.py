"""Helpers shared by the browser tests: the table of contents, a local web server, a page monitor.

Chromium is Debian's package (``/usr/bin/chromium``, installed by ``scripts/setup-browser``);
Playwright never downloads a browser here.
"""
from __future__ import annotations

import functools
import os
import re
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urldefrag, urlparse

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--metrics-recording-only",
    "--disable-dev-shm-usage",
    # No name resolves except localhost: nothing can reach the internet even by mistake.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
SCREENSHOT_DIR = ROOT / "artifacts" / "screenshots"
#: Screenshots of the Chinese edition's chapters (three translated ones, at both widths).
ZH_SCREENSHOT_DIR = SCREENSHOT_DIR / "zh"
#: The Chinese edition's folder in the built book, and its pages' catalogs.
ZH_EDITION = "zh"
ZH_CATALOGS = ROOT / "locales" / "zh_CN" / "LC_MESSAGES"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


# --------------------------------------------------------------------------- table of contents
def toc_files(root: Path = ROOT) -> list[str]:
    """Every page of _toc.yml, in reading order (root, then chapters and their sections)."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return [re.sub(r"\.(md|ipynb|rst)$", "", f) for f in files]


def translated_pages(root: Path = ROOT) -> list[str]:
    """The pages of _toc.yml whose Chinese catalog is complete (every message translated, none
    fuzzy), in reading order: the Chinese pages the browser tests read as a reader would."""
    from babel.messages.pofile import read_po

    pages = []
    for page in toc_files(root):
        catalog = ZH_CATALOGS / f"{page}.po"
        if not catalog.is_file():
            continue
        with catalog.open("rb") as handle:
            messages = [message for message in read_po(handle) if message.id]
        if messages and all(message.string and not message.fuzzy for message in messages):
            pages.append(page)
    return pages


def source_of(page: str, root: Path = ROOT) -> Path:
    path = root / page
    matches = sorted(path.parent.glob(path.name + ".*"))
    if not matches:
        raise FileNotFoundError(f"{page} is in _toc.yml but has no source file")
    return matches[0]


_FENCE = re.compile(r"^(`{3,}|~{3,}).*?^\1\s*$", re.S | re.M)
_MATH_IN_SOURCE = re.compile(r"\$\$|\{math\}|\\begin\{(equation|align)|(?<![\\$\w])\$[^$\s][^$\n]*\$")


def source_has_maths(page: str, root: Path = ROOT) -> bool:
    """True when the page's source has maths outside code (``$..$``, ``$$``, ``{math}``)."""
    text = source_of(page, root).read_text(encoding="utf-8")
    text = re.sub(r"^---\n.*?\n---\n", "", text, count=1, flags=re.S)   # front matter
    outside = _FENCE.sub(lambda m: "" if "math" not in m.group(0).split("\n", 1)[0] else "$$",
                         text)
    outside = re.sub(r"`[^`\n]*`", "", outside)                          # inline code
    return bool(_MATH_IN_SOURCE.search(outside))


# --------------------------------------------------------------------------- local web server
class _QuietHandler(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map,
                      ".ipynb": "application/x-ipynb+json", ".js": "text/javascript",
                      ".woff": "font/woff", ".woff2": "font/woff2", ".svg": "image/svg+xml"}

    def log_message(self, format, *args):  # noqa: A002 - signature from the base class
        pass


class StaticSite:
    """Serve a directory on 127.0.0.1 from a background thread."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        handler = functools.partial(_QuietHandler, directory=str(self.directory))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self._cache: dict[str, tuple[int, bytes]] = {}
        self._ids: dict[str, set[str]] = {}

    def page_url(self, page: str) -> str:
        return f"{self.url}/{page}.html"

    def fetch(self, url: str) -> tuple[int, bytes]:
        """(HTTP status, body) of a URL on this site, cached."""
        url = urldefrag(url)[0]
        if url not in self._cache:
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    self._cache[url] = (response.status, response.read())
            except urllib.error.HTTPError as error:
                self._cache[url] = (error.code, b"")
        return self._cache[url]

    def ids(self, url: str) -> set[str]:
        """The element ids (and names) of an HTML page of this site, cached."""
        url = urldefrag(url)[0]
        if url not in self._ids:
            self._ids[url] = html_ids(self.fetch(url)[1])
        return self._ids[url]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def html_ids(html: bytes) -> set[str]:
    text = html.decode("utf-8", "replace")
    return set(re.findall(r'\bid="([^"]+)"', text)) | set(re.findall(r'\bname="([^"]+)"', text))


def wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"JupyterLab exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.25)
    raise AssertionError(f"JupyterLab did not answer {url} within {timeout} s:\n"
                         f"{log.read_text()[-3000:]}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------- page monitor
@dataclass
class PageMonitor:
    """Records what went wrong while pages of one browser context were loading.

    Requests to any host but localhost are recorded (and fail: Chromium is started with
    ``--host-resolver-rules`` that resolve no other name). Listening does not intercept, so
    pages load at full speed.
    """

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    bad_responses: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)

    def install(self, context) -> None:
        context.on("page", self.attach)

    def attach(self, page) -> None:
        page.on("request", lambda req: not req.url.startswith(("data:", "blob:"))
                and urlparse(req.url).hostname not in LOCAL_HOSTS
                and self.external_requests.append(req.url))
        page.on("console", lambda msg: msg.type == "error" and self.console_errors.append(
            f"{msg.text[:300]} (at {msg.location.get('url', '?')}:{msg.location.get('lineNumber', '?')})"))
        page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))
        page.on("requestfailed", lambda req: urlparse(req.url).hostname in LOCAL_HOSTS
                and self.failed_requests.append(f"{req.url}: {req.failure}"))
        page.on("response", lambda resp: resp.status >= 400
                and self.bad_responses.append(f"{resp.status} {resp.url}"))

    def clear(self) -> None:
        for name in ("console_errors", "page_errors", "failed_requests", "bad_responses",
                     "external_requests"):
            getattr(self, name).clear()

    def problems(self) -> list[str]:
        out = []
        out += [f"console error: {m}" for m in self.console_errors]
        out += [f"JavaScript error: {m}" for m in self.page_errors]
        out += [f"failed request: {m}" for m in self.failed_requests]
        out += [f"HTTP error: {m}" for m in self.bad_responses]
        out += [f"request to a non-local host: {m}" for m in self.external_requests]
        return out


# --------------------------------------------------------------------------- in-page scripts
WAIT_FOR_MATHS_JS = """
async () => {
  const maths = document.querySelectorAll('.math');
  if (maths.length === 0) return {maths: 0, loaded: !!window.MathJax};
  const start = Date.now();
  while (!(window.MathJax && window.MathJax.startup && window.MathJax.startup.promise)) {
    if (Date.now() - start > 20000) return {maths: maths.length, loaded: false};
    await new Promise(r => setTimeout(r, 50));
  }
  await window.MathJax.startup.promise;
  await document.fonts.ready;
  const untypeset = [...maths].filter(m => !m.querySelector('mjx-container'))
                              .map(m => m.textContent.trim().slice(0, 80));
  const errors = [...document.querySelectorAll('mjx-merror, [data-mjx-error]')]
                   .map(e => (e.getAttribute('data-mjx-error') || e.textContent).slice(0, 120));
  return {maths: maths.length, loaded: true,
          containers: document.querySelectorAll('mjx-container').length,
          untypeset, errors};
}
"""
