"""A fake webhook receiver (Teams Workflows, Slack incoming webhook, generic JSON) on http://127.0.0.1.

It records every POST (path with query, headers, parsed JSON body) and answers with the next scripted status
(default 200). Use as a context manager; ``url`` is the base (add a path and query as a real webhook URL has).
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


@dataclass(frozen=True)
class Post:
    """One POST received: path (with query), lower-cased headers, raw body and its JSON (None if not JSON)."""

    path: str
    headers: dict[str, str]
    body: bytes
    json: Any


class FakeWebhook:
    """The receiver; `statuses` answers the next posts in order (then 200)."""

    def __init__(self, *statuses: int) -> None:
        self.posts: list[Post] = []
        self._statuses = deque(statuses)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "use FakeWebhook as a context manager"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeWebhook:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the stdlib's name)
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    parsed = json.loads(body)
                except ValueError:
                    parsed = None
                with fake._lock:
                    fake.posts.append(Post(self.path, {k.lower(): v for k, v in self.headers.items()}, body, parsed))
                    status = fake._statuses.popleft() if fake._statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()
