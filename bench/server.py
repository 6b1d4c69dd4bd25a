"""A static file server for benchmarks, run as its own process so its work is not counted as feedbot's.

    python -m bench.server DIR

Prints the port on the first line of stdout. It answers conditional GETs with 304 (Last-Modified /
If-Modified-Since, as http.server does) unless a file named ``.plain`` exists in DIR: then it ignores
the validators and sends the full, identical bytes every time (feedbot must notice they did not change).
"""

from __future__ import annotations

import contextlib
import sys
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class Handler(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stalls

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send_head(self) -> Any:
        if (Path(self.directory) / ".plain").exists():
            del self.headers["If-Modified-Since"]
            del self.headers["If-None-Match"]
        return super().send_head()


def main() -> int:
    directory = sys.argv[1]
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=directory))
    httpd.daemon_threads = True
    print(httpd.server_address[1], flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        httpd.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
