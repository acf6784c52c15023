"""Shared plumbing for benchmark scripts: each script owns one section of RESULTS.md."""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode, urlsplit

RESULTS = Path(__file__).with_name("RESULTS.md")
SHARED = Path(os.environ.get("SEARCH_SHARED",
                             Path(__file__).resolve().parents[1].parent / "shared"))
EVAL = SHARED / "eval"
HEADER = ("# Benchmark results\n\n"
          "Each section is written by the script it names; rerun it to refresh.\n")


def machine() -> str:
    """One line describing where the figures were taken."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores ({cpu}){mem}, Python {platform.python_version()}"


def git_rev() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, cwd=RESULTS.parent, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def write_section(name: str, body: str, command: str) -> None:
    """Replace (or append) the section ``name`` of RESULTS.md, keeping the others."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    block = (f"<!-- BEGIN {name} -->\n{body.rstrip()}\n\n"
             f"_Reproduce: `{command}`. Taken {stamp} at commit {git_rev()} on {machine()}._\n"
             f"<!-- END {name} -->")
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else HEADER
    pattern = re.compile(
        rf"<!-- BEGIN {re.escape(name)} -->.*?<!-- END {re.escape(name)} -->", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _m: block, text)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(text, encoding="utf-8")


def markdown_table(headers: list[str], rows: list[list[object]]) -> str:
    def fmt(v: object) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(headers) + " |",
             "|" + "|".join("---:" if i else "---" for i in range(len(headers))) + "|"]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def start_server(command: list[str], cwd: Path,
                 env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str, int]:
    """Start a server that prints ``Serving on http://HOST:PORT/``; return it, host, port.

    Refuses anything but a loopback address: benchmarks only ever load this machine.
    """
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line:
            break
        match = re.search(r"Serving on (http://\S+/)", line)
        if match:
            parts = urlsplit(match.group(1))
            assert ipaddress.ip_address(parts.hostname).is_loopback, "loopback only"
            # Keep draining the server's output so it can never block on a full pipe.
            threading.Thread(target=_drain, args=(proc,), daemon=True).start()
            return proc, parts.hostname, parts.port
    proc.kill()
    raise RuntimeError("the server did not start")


def _drain(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ValueError, OSError):  # closed by stop_server meanwhile
        for _ in proc.stdout:
            pass


def search_cli() -> list[str]:
    """The installed ``search-cli`` of this Python (not a version manager's shim, which adds
    its own start-up), else ``python -m search.cli``."""
    script = Path(sys.executable).with_name("search-cli")
    if script.exists():
        return [str(script)]
    found = shutil.which("search-cli")
    return [found] if found else [sys.executable, "-m", "search.cli"]


def stop_server(proc: subprocess.Popen) -> None:
    """Stop a server process (politely, then not) and close its output pipe.

    Also the tests' (``tests/conftest.py``), as :func:`search_cli` is."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    if proc.stdout:
        proc.stdout.close()


class LoadClient(threading.Thread):
    """One keep-alive client sending ``/api/search`` queries back to back until the deadline.

    Client ``start`` of ``step`` clients takes queries start, start + step, ...; each answered
    request is a sample ``(monotonic time sent, latency ms, engine ms)``, the engine's time
    being the ``elapsed_ms`` it reported. Failures are counted by kind in ``errors``.
    """

    MAX_REQUESTS = 1_000_000  #: a hard bound on top of the deadline

    def __init__(self, host: str, port: int, queries: list[str], start: int, step: int,
                 deadline: float) -> None:
        super().__init__(daemon=True)
        self.host, self.port = host, port
        self.queries, self.index, self.step = queries, start, step
        self.deadline = deadline
        self.samples: list[tuple[float, float, float]] = []
        self.errors: dict[str, int] = {}

    def _error(self, key: str) -> None:
        self.errors[key] = self.errors.get(key, 0) + 1

    def run(self) -> None:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        for _ in range(self.MAX_REQUESTS):
            sent = time.monotonic()
            if sent >= self.deadline:
                break
            q = self.queries[self.index % len(self.queries)]
            self.index += self.step
            t0 = time.perf_counter()
            try:
                conn.request("GET", "/api/search?" + urlencode({"q": q}))
                response = conn.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException) as e:
                self._error(type(e).__name__)
                conn.close()
                conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
                continue
            elapsed = (time.perf_counter() - t0) * 1000
            if response.status != 200:
                self._error(f"HTTP {response.status}")
                continue
            try:
                engine = float(json.loads(body)["elapsed_ms"])
            except (ValueError, KeyError, TypeError):
                self._error("bad JSON")
                continue
            self.samples.append((sent, elapsed, engine))
        conn.close()
