"""Test helpers: a local HTTP server on 127.0.0.1, feed validation, config writing."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import feedparser
import lxml.etree as etree
import rnc2rng

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the body is sent
    handler: Callable[[BaseHTTPRequestHandler], None] | None = None  # full control


class Server:
    """A tiny HTTP server on 127.0.0.1 whose routes tests set; it records every request — those for
    /robots.txt in ``robots_requests``, every other one in ``requests`` (robots.txt is asked for once
    per host and run, so keeping it apart keeps request counts about pages). /robots.txt answers 404
    (allow everything) unless a test sets a route for it."""

    def __init__(self) -> None:
        self.routes: dict[str, Response | list[Response]] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.robots_requests: list[tuple[str, str, dict[str, str]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body go out in two writes: without TCP_NODELAY each response waits
            # ~40 ms for the client's delayed ACK (Nagle)
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                log = outer.robots_requests if self.path == "/robots.txt" else outer.requests
                log.append((self.command, self.path, dict(self.headers)))
                route = outer.routes.get(self.path)
                if isinstance(route, list):
                    response = route.pop(0) if len(route) > 1 else route[0]
                else:
                    response = route or Response(404, b"not found", {"Content-Type": "text/plain"})
                if response.handler:
                    response.handler(self)
                    return
                if response.delay:
                    time.sleep(response.delay)
                self.send_response(response.status)
                headers = {"Content-Type": "text/html; charset=utf-8", **response.headers}
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                self.wfile.write(response.body)

        class QuietServer(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that hung up on purpose (timeouts) is not a test failure

        self.httpd = QuietServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def start(self) -> Server:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@contextmanager
def serve() -> Iterator[Server]:
    server = Server().start()
    try:
        yield server
    finally:
        server.stop()


@cache
def atom_schema() -> etree.RelaxNG:
    rng = rnc2rng.dumps(rnc2rng.load(str(HERE / "schemas" / "atom.rnc")))
    rng = rng.replace('xmlns:local=""', "")
    return etree.RelaxNG(etree.fromstring(rng.encode("utf-8")))


ATOM = "{http://www.w3.org/2005/Atom}"


def check_atom(data: bytes) -> Any:
    """Assert the Atom document is valid (RFC 4287 RELAX NG schema and its two Schematron rules)
    and parses in feedparser without a bozo flag. Returns the feedparser result."""
    doc = etree.fromstring(data)
    schema = atom_schema()
    assert schema.validate(doc), str(schema.error_log)
    feed_author = doc.find(f"{ATOM}author") is not None
    for entry in doc.findall(f"{ATOM}entry"):
        assert feed_author or entry.find(f"{ATOM}author") is not None, "entry without author"
        alternate = [
            link
            for link in entry.findall(f"{ATOM}link")
            if link.get("rel", "alternate") == "alternate"
        ]
        assert alternate or entry.find(f"{ATOM}content") is not None, (
            "entry without link or content"
        )
    parsed = feedparser.parse(data)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


@cache
def json_feed_schema() -> Any:
    import jsonschema

    schema = json.loads((HERE / "schemas" / "jsonfeed-1.1.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def check_json_feed(data: bytes) -> Any:
    """Assert the JSON Feed is UTF-8 JSON valid against our JSON Feed 1.1 schema. Returns the decoded
    JSON. (feedparser 6, the released line, has no JSON Feed parser: its bozo check cannot apply.)"""
    doc = json.loads(data.decode("utf-8"))
    errors = sorted(json_feed_schema().iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "; ".join(f"{list(e.path)}: {e.message[:200]}" for e in errors[:5])
    return doc


def check_feed(fmt: str, data: bytes) -> Any:
    """Validate a feed of any format: Atom (RELAX NG), RSS (feedparser), JSON Feed (schema)."""
    if fmt == "atom":
        return check_atom(data)
    if fmt == "json":
        return check_json_feed(data)
    return check_feedparser(data)


def check_feedparser(data: bytes) -> Any:
    parsed = feedparser.parse(data)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


def write_config(directory: Path, sources: list[dict[str, Any]], **settings: Any) -> Path:
    """Write a feedbot.toml into ``directory`` (TOML via JSON-compatible literals)."""
    lines = ["[feedbot]"]
    settings.setdefault("user_agent", "feedbot-tests/1 (+http://127.0.0.1/contact)")
    settings.setdefault("lock_timeout", 2)
    settings.setdefault("host_interval", 0)  # tests talk to one local server; no need to pace
    feeds = settings.pop("feeds", {})
    for key, value in settings.items():
        lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
    for name, table in feeds.items():
        lines.append(f"[feeds.{json.dumps(name)}]")
        for key, value in table.items():
            lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
    for source in sources:
        lines.append("[[sources]]")
        for key, value in source.items():
            lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
    path = directory / "feedbot.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class Clock:
    """A clock the tests move by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2022, 3, 6, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)
