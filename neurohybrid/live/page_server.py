"""Serves the live page (the static files in ``web/``) and ``config.json`` over HTTP, from a
thread of its own (stdlib ``http.server``); nothing is fetched from anywhere else."""

from __future__ import annotations

import json
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

WEB_DIR = Path(__file__).resolve().parent / "web"
"""The page: index.html, live.js, live.css (installed with the package)."""
CONFIG_PATH = "/config.json"


class _PageHandler(SimpleHTTPRequestHandler):
    """Static files of ``web/`` plus ``config.json``; no directory listings, no request log."""

    def __init__(self, *args: Any, config: bytes, **kwargs: Any) -> None:
        self._config = config
        super().__init__(*args, directory=str(WEB_DIR), **kwargs)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if self.path.split("?", 1)[0] == CONFIG_PATH:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(self._config)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(self._config)
            return
        super().do_GET()

    def list_directory(self, path: str) -> None:
        self.send_error(404, "no directory listing")
        return None

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are not logged (the node's log stays about the experiment)."""


class PageServer:
    """HTTP server of the page on ``host:port`` (0: any free port); ``config`` becomes ``config.json``."""

    def __init__(self, host: str, port: int, config: dict[str, Any]) -> None:
        handler = partial(_PageHandler, config=json.dumps(config).encode())
        self._httpd = ThreadingHTTPServer((host, port), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.25},
                                        name="live-page", daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()
