"""Run the web app for real with waitress: ``search-cli serve`` (``python -m web.server`` is the
same command).

A fresh checkout has no index, so ``serve`` first builds one from the repository's
``seeds/`` folder when the index is missing or empty: the command then just works.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from search.errors import IndexNotFound, SearchError

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[1]


def find_seeds() -> Path | None:
    """The ``seeds/`` folder: in the current directory first, then in the repository."""
    for candidate in (Path.cwd() / "seeds", REPO_ROOT / "seeds"):
        if candidate.is_dir():
            return candidate
    return None


def ensure_index(index: str | Path | None) -> Path:
    """Open-check the index and build it from ``seeds/`` if it is missing or empty.

    An index that exists but cannot be read (another engine version) is left alone: the
    pages then explain how to rebuild it, rather than silently replacing someone's data.
    """
    from search.indexer import default_index_path, index_paths
    from search.searcher import SearchIndex

    path = Path(index) if index is not None else default_index_path()
    try:
        idx = SearchIndex(str(path))
        try:
            empty = idx.stats().doc_count == 0
        finally:
            idx.close()
    except IndexNotFound:
        empty = True
    except SearchError as exc:
        print(f"Warning: {exc}", file=sys.stderr, flush=True)
        return path
    if empty:
        seeds = find_seeds()
        if seeds is None:
            print(f"The index at {path} is empty and there is no seeds/ folder to build it "
                  "from.", file=sys.stderr, flush=True)
            return path
        print(f"Building the index at {path} from {seeds} ...", flush=True)
        report = index_paths([seeds], path)
        print(f"Indexed {report.indexed} documents in {report.seconds:.1f} s.", flush=True)
        for problem in report.problems:
            print(f"  skipped {problem}", file=sys.stderr, flush=True)
    return path


def _display_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def serve(host: str = "127.0.0.1", port: int = 8080, index: str | None = None,
          threads: int = 8, rate_limit: int = 0, workers: int = 1,
          api_keys: Sequence[str] = (), config: Mapping[str, Any] | None = None) -> None:
    """Serve the app with waitress until interrupted; port 0 picks a free port.

    ``rate_limit`` caps search requests per client address and minute (0: no cap).
    ``config``: more settings of the app (see :func:`web.create_app`), e.g. ``QUERY_LOG``.
    ``workers`` > 1 forks that many server processes sharing one listening socket, so
    searches (pure Python, bound by the GIL) can use more than one core.
    ``api_keys`` may write through the document API (none: it is read-only; see
    :func:`web.documents.load_api_keys`).
    Prints ``Serving on http://HOST:PORT/`` (the real port) once the socket listens, so
    scripts and tests can read the address. Flask's debug mode is never used here.
    """
    path = ensure_index(index)
    api_keys = tuple(api_keys)
    print("Document API: " + (f"writes allowed with {len(api_keys)} API key(s)" if api_keys
                              else "read-only (no API key configured)"), flush=True)
    if workers > 1 and hasattr(os, "fork"):
        _serve_forked(host, port, path, threads, rate_limit, workers, api_keys, config)
        return
    app = _make_app(path, rate_limit, api_keys, config)
    server = _create_server(app, host=host, port=port, threads=threads)
    real_port = getattr(server, "effective_port", port)
    real_host = getattr(server, "effective_host", host)
    if not isinstance(real_host, str) or real_host in ("0.0.0.0", "::"):
        real_host = host
    _announce(real_host, real_port)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        _close_app(app)


#: waitress settings shared by both ways of serving (read-only: copy to change).
WAITRESS_OPTIONS: Mapping[str, object] = MappingProxyType({
    "ident": "bilingual-search",
    "channel_timeout": 30,
    "connection_limit": 200,
    "clear_untrusted_proxy_headers": True,
    # Nothing here needs more: waitress answers 431/413 itself instead of buffering a flood.
    "max_request_header_size": 64 * 1024,
    "max_request_body_size": 64 * 1024,
})


#: Environment variable: largest body (bytes) of a document write; default 10 MB.
ENV_DOCUMENTS_MAX_BYTES = "SEARCH_DOCUMENTS_MAX_BYTES"


def _create_server(app, **options: object):  # noqa: ANN001, ANN202 - waitress types
    """A waitress server whose own error answers (400, 413, 431...) carry the app's
    security headers (see :mod:`web.waitress_errors`)."""
    from waitress import create_server

    from web.waitress_errors import harden

    socket_map: dict = {}
    server = create_server(app, map=socket_map, **options, **_waitress_options(app))
    harden(socket_map)
    return server


def _make_app(path: Path, rate_limit: int, api_keys: Sequence[str] = (),
              extra: Mapping[str, Any] | None = None):  # noqa: ANN202 - a Flask app
    from web import create_app

    config: dict[str, object] = {**(extra or {}), "SEARCH_INDEX": str(path),
                                 "RATE_LIMIT_PER_MINUTE": rate_limit,
                                 "API_KEYS": tuple(api_keys)}
    if os.environ.get(ENV_DOCUMENTS_MAX_BYTES, "").strip():
        config["DOCUMENTS_MAX_BYTES"] = int(os.environ[ENV_DOCUMENTS_MAX_BYTES])
    app = create_app(config)
    app.debug = False
    return app


def _waitress_options(app) -> dict[str, object]:  # noqa: ANN001 - a Flask app
    """WAITRESS_OPTIONS, with room for the document API's bodies when writes are allowed."""
    options = dict(WAITRESS_OPTIONS)
    if app.config["API_KEYS"]:
        options["max_request_body_size"] = max(int(options["max_request_body_size"]),
                                               int(app.config["DOCUMENTS_MAX_BYTES"]))
    return options


def _close_app(app) -> None:  # noqa: ANN001
    from web import index_holder

    index_holder(app).close()


def _announce(host: str, port: int) -> None:
    print(f"Serving on http://{_display_host(host)}:{port}/", flush=True)


def _serve_forked(host: str, port: int, path: Path, threads: int, rate_limit: int,
                  workers: int, api_keys: Sequence[str] = (),
                  config: Mapping[str, Any] | None = None) -> None:
    """Pre-fork: bind once, then ``workers`` processes accept on the same socket."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=1024)
    real_host, real_port = sock.getsockname()[:2]
    children: list[int] = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            code = 0
            try:
                _run_worker(sock, path, threads, rate_limit, api_keys, config)
            except BaseException:  # noqa: BLE001 - a child must never return into the parent's code
                code = 1
            finally:
                os._exit(code)
        children.append(pid)
    _announce(real_host, real_port)
    sock.close()

    def stop(signum: int, _frame: object) -> None:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        # When any worker ends, stop the others: a half-alive server is worse than none.
        os.waitpid(-1, 0)
    except ChildProcessError:
        pass
    stop(signal.SIGTERM, None)
    for pid in children:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def _run_worker(sock: socket.socket, path: Path, threads: int, rate_limit: int,
                api_keys: Sequence[str] = (),
                config: Mapping[str, Any] | None = None) -> None:  # pragma: no cover - child
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    parent = os.getppid()

    def orphan_watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=orphan_watch, daemon=True).start()
    app = _make_app(path, rate_limit, api_keys, config)
    server = _create_server(app, sockets=[sock], threads=threads)
    server.run()


def main(argv: list[str] | None = None) -> int:
    """``python -m web.server ARGS`` is ``search-cli serve ARGS``: one command line, with
    the same options and guards (``--public`` to listen beyond loopback)."""
    from search.cli import cli

    args = sys.argv[1:] if argv is None else list(argv)
    try:
        cli.main(args=["serve", *args], prog_name="search-cli")
    except SystemExit as exc:  # click ends every run so: its status is the answer
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
