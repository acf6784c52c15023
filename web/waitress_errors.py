"""Errors waitress answers by itself, hardened like the app's own.

waitress refuses some requests before the app sees them: a URL that is not valid (a raw
``\\xff``, 400), headers past ``max_request_header_size`` (431), a body past
``max_request_body_size`` (413), and a crash inside waitress (500). Its answer is plain text
with none of the app's security headers. waitress makes these answers in one class, the
channel's ``error_task_class``; :func:`harden` puts a subclass in there on the servers
``create_server`` made, which adds :data:`web.SECURITY_HEADERS` and the message in both UI
languages. Nothing is patched globally: other waitress servers in the process are left as
they are.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer
from waitress.task import ErrorTask

from web import SECURITY_HEADERS, i18n

#: waitress's error status -> the i18n message that explains it.
_MESSAGES: dict[int, str] = {400: "err_bad_request", 413: "err_too_large",
                             431: "err_headers_too_large", 500: "err_internal"}


class HardenedErrorTask(ErrorTask):
    """waitress's error answer with the app's security headers and a bilingual message."""

    def execute(self) -> None:
        error = self.request.error
        key = _MESSAGES.get(error.code, "err_bad_request" if error.code < 500
                            else "err_internal")
        adj = self.channel.server.adj
        limits = {"err_too_large": adj.max_request_body_size,
                  "err_headers_too_large": adj.max_request_header_size}
        params = {"max": limits[key]} if key in limits else {}
        status = f"{error.code} {error.reason}"
        body = "".join(f"{i18n.t(key, lang, **params)}\r\n"
                       for lang in ("en", "sl")).encode("utf-8")
        self.status = status
        self.response_headers.extend([("Content-Type", "text/plain; charset=utf-8"),
                                      ("Cache-Control", "no-store"),
                                      *SECURITY_HEADERS.items()])
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class HardenedChannel(HTTPChannel):
    """An HTTP channel whose own error answers are :class:`HardenedErrorTask`."""

    error_task_class = HardenedErrorTask


def harden(socket_map: dict[Any, Any] | Iterable[Any]) -> int:
    """Make every waitress server in ``socket_map`` (the ``map`` given to
    ``create_server``) open hardened channels; returns how many servers were changed."""
    dispatchers = socket_map.values() if isinstance(socket_map, dict) else socket_map
    changed = 0
    for dispatcher in list(dispatchers):
        if isinstance(dispatcher, BaseWSGIServer):
            dispatcher.channel_class = HardenedChannel
            changed += 1
    return changed
