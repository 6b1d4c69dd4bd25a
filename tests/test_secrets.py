"""Credentials in a configured URL (user-info, secret query parameters) are used to fetch and shown
nowhere: not in the feeds, OPML, the server's index page or /healthz, not in `feedbot run`'s or
`status`'s output, not in the log. /healthz names error kinds and sources, never a file path or an
exception's text."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from feedbot.cli import main
from feedbot.config import load_config

from .helpers import FIXTURES, Response, Server, write_config
from .test_serve import Client, running

PAGE = (FIXTURES / "ukraine-digest-2022-03-06.html").read_bytes()
SECRETS = ("s3cret-pw", "alice", "t0k3n-value", "k3y-value")


def guarded(handler: BaseHTTPRequestHandler) -> None:
    """The page, only for alice with her password and her token (so the credentials are used)."""
    expected = "Basic " + base64.b64encode(b"alice:s3cret-pw").decode()
    if handler.headers.get("Authorization") != expected or "token=t0k3n-value" not in handler.path:
        handler.send_response(401)
        handler.send_header("Content-Length", "0")
        handler.end_headers()
        return
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    handler.send_header("Content-Length", str(len(PAGE)))
    handler.end_headers()
    handler.wfile.write(PAGE)


@pytest.fixture
def secret_site(tmp_path: Path, server: Server) -> Iterator[Path]:
    server.routes["/digest?token=t0k3n-value&edition=1"] = Response(handler=guarded)
    server.routes["/broken?key=k3y-value"] = Response(handler=guarded)
    host = server.base.removeprefix("http://")
    sources = [
        {
            "name": "private",
            "url": f"http://alice:s3cret-pw@{host}/digest?token=t0k3n-value&edition=1",
            "feed": "private",
        },
        {
            # a failing one: its error message carries the URL, and the URL carries credentials
            "name": "broken",
            "url": f"http://alice:s3cret-pw@{host}/broken?key=k3y-value",
            "feed": "broken",
        },
        {"name": "gone", "url": "missing/never-there.html", "feed": "gone"},
    ]
    config = write_config(
        tmp_path, sources, feeds={"private": {"formats": ["atom", "rss", "json"]}}
    )
    yield config


def everything_public(config_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    """Run, then collect every public output: run's and status's output and log, each feed file,
    and what the server answers for /, /opml, /healthz and each feed."""
    outputs: dict[str, str] = {}
    main(["run", "-c", str(config_path), "-v"])
    captured = capsys.readouterr()
    outputs["run stdout"], outputs["run log"] = captured.out, captured.err
    main(["status", "-c", str(config_path)])
    main(["status", "-c", str(config_path), "--json"])
    captured = capsys.readouterr()
    outputs["status"] = captured.out + captured.err
    config = load_config(config_path)
    for file in sorted(config.feeds_dir.glob("*")):
        outputs[file.name] = file.read_text("utf-8")
    with running(config) as client:
        for path in ("/", "/opml", "/healthz", "/private.atom", "/private.rss", "/private.json"):
            outputs[path] = client.request(path).body.decode("utf-8")
    return outputs


def test_credentials_are_used_and_never_shown(
    secret_site: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="feedbot")
    outputs = everything_public(secret_site, capsys)
    assert "private.atom" in outputs  # fetched with the credentials: the feed exists
    assert "Harbour" in outputs["/private.atom"] or "<entry>" in outputs["/private.atom"]
    outputs["log records at INFO and above"] = "\n".join(
        r.getMessage() for r in caplog.records if r.levelno >= logging.INFO
    )
    for where, text in outputs.items():
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} shown in {where}"
    # what is not secret stays: the site link keeps its ordinary parameter
    assert "edition=1" in outputs["/opml"]


def test_healthz_names_error_kinds_never_paths_or_exception_text(
    secret_site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = everything_public(secret_site, capsys)
    health = json.loads(outputs["/healthz"])
    by_source = {s["source"]: s for s in health["sources"]}
    assert by_source["private"]["error_kind"] is None
    assert by_source["broken"]["error_kind"] == "http-status"
    assert by_source["gone"]["error_kind"] == "not-found"
    body = outputs["/healthz"]
    config = load_config(secret_site)
    for leak in (str(config.state_dir), str(config.path.parent), "never-there", "HTTP 401", "file"):
        assert leak not in body, leak


def test_healthz_with_an_unreadable_state_says_so_without_the_path(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_bytes(PAGE)
    config = load_config(write_config(tmp_path, [{"name": "s", "url": "page.html", "feed": "f"}]))
    config.state_dir.mkdir(parents=True)
    config.db_path.write_bytes(b"this is not a database, it is text" * 200)
    with running(config) as client:
        reply = client.request("/healthz")
    assert reply.status == 503
    body = json.loads(reply.body)
    assert body["status"] == "error" and body["error_kind"] == "state-corrupt"
    assert str(tmp_path) not in reply.body.decode()


def test_a_client_never_sees_a_url_s_credentials_in_opml(secret_site: Path) -> None:
    config = load_config(secret_site)
    client: Client
    with running(config) as client:
        opml = client.request("/opml").body.decode()
    assert "s3cret" not in opml and "t0k3n" not in opml


def test_configured_secret_params_are_kept_out_too(
    tmp_path: Path, server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    """``secret_params`` names a site's own parameters (it replaces the built-in list)."""
    server.routes["/page?sesame=open-up&day=1"] = Response(200, PAGE)
    server.routes["/gone?sesame=open-up"] = Response(404, b"")
    sources = [
        {"name": "a", "url": server.url("/page?sesame=open-up&day=1"), "feed": "a"},
        {"name": "b", "url": server.url("/gone?sesame=open-up"), "feed": "b"},
    ]
    path = write_config(tmp_path, sources, secret_params=["sesame"])
    outputs = everything_public(path, capsys)
    assert "a.atom" in outputs
    for where, text in outputs.items():
        assert "open-up" not in text, f"shown in {where}"
    assert "day=1" in outputs["/opml"]
