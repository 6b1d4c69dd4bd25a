"""Bad input: each case gives a one-line error naming the source and the cause; the other sources still
run; the existing feed file and the stored items are untouched."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from feedbot.cli import main
from feedbot.config import load_config
from feedbot.fetch import Fetcher, FetchSettings
from feedbot.run import run_once
from feedbot.store import Store

from .helpers import FIXTURES, Clock, Response, Server, write_config

PAGE = (FIXTURES / "ukraine-digest-2022-03-06.html").read_bytes()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _fetcher() -> Fetcher:
    return Fetcher(
        FetchSettings(user_agent="t (+http://127.0.0.1/)", read_timeout=0.5, tries=2, backoff=0.01),
        sleep=lambda s: None,
    )


CASES = {
    "404": (Response(404, b"gone"), "HTTP 404"),
    "500": (Response(500, b"oops"), "HTTP 500"),
    "timeout": (Response(200, PAGE, delay=1.5), "no response within 0.5s"),
    "pdf": (
        Response(200, b"%PDF-1.4 ...", {"Content-Type": "application/pdf"}),
        "content type application/pdf",
    ),
    "image": (
        Response(200, b"\x89PNG\r\n\x1a\n....", {"Content-Type": "image/png"}),
        "content type image/png",
    ),
    "pdf-as-html": (
        Response(200, b"%PDF-1.4 binary", {"Content-Type": "text/html"}),
        "got a PDF document",
    ),
    "empty": (Response(200, b""), "empty page"),
    "blank-html": (Response(200, b"<html><body>  </body></html>"), "the feed is left as it was"),
    "no-headline": (
        Response(
            200,
            b"<html><body><p>Just one paragraph of text, nothing else.</p></body></html>",
        ),
        "no headline structure found",
    ),
    "malformed": (
        Response(200, b"<html><body><div><p><b>\xff\xfe<<<</div></table><p>Text</html"),
        "no headline",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_page_keeps_feed_and_items(tmp_path: Path, server: Server, case: str) -> None:
    shutil.copy(FIXTURES / "ukraine-digest-2022-03-06.html", tmp_path / "good.html")
    server.routes["/digest"] = Response(200, PAGE)
    path = write_config(
        tmp_path,
        [
            {"name": "remote", "url": server.url("/digest"), "feed": "remote"},
            {"name": "local", "url": "good.html", "feed": "local"},
        ],
    )
    config = load_config(path)
    clock = Clock()
    results = run_once(config, now=clock, fetcher=_fetcher())
    assert all(r.ok for r in results)
    feed = config.feeds_dir / "remote.atom"
    before = feed.read_bytes()
    mtime = feed.stat().st_mtime_ns

    response, message = CASES[case]
    server.routes["/digest"] = response
    (tmp_path / "good.html").write_text(
        (FIXTURES / "ukraine-digest-2022-03-07.html").read_text(encoding="utf-8"), encoding="utf-8"
    )
    clock.advance(hours=1)
    results = run_once(config, now=clock, fetcher=_fetcher())
    remote, local = results
    assert not remote.ok
    assert remote.error is not None and message in remote.error
    assert "'remote'" in remote.error and "\n" not in remote.error
    assert local.ok and local.new == 1  # the other source still ran
    assert feed.read_bytes() == before
    assert feed.stat().st_mtime_ns == mtime
    with Store(config.db_path) as store:
        assert store.count_entries("remote") == 5
        run = store.source_runs()["remote"]
        assert run.failures == 1 and run.result == "error" and message in (run.error or "")


def test_unreachable_host(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    port = _closed_port()
    shutil.copy(FIXTURES / "ukraine-digest-2022-03-06.html", tmp_path / "good.html")
    path = write_config(
        tmp_path,
        [
            {"name": "down", "url": f"http://127.0.0.1:{port}/x", "feed": "down"},
            {"name": "local", "url": "good.html", "feed": "local"},
        ],
        connect_timeout=1,
    )
    assert main(["run", "-c", str(path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "source 'down'" in err[0] and "cannot connect" in err[0]
    assert (tmp_path / "feeds" / "local.atom").exists()
    assert not (tmp_path / "feeds" / "down.atom").exists()


def test_missing_local_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config(tmp_path, [{"name": "gone", "url": "nope.html", "feed": "f"}])
    assert main(["run", "-c", str(path)]) == 1
    err = capsys.readouterr().err
    assert "source 'gone'" in err and "file not found" in err


def test_server_error_then_success_retries(tmp_path: Path, server: Server) -> None:
    server.routes["/d"] = [Response(500, b"x"), Response(200, PAGE)]
    config = load_config(
        write_config(tmp_path, [{"name": "s", "url": server.url("/d"), "feed": "f"}])
    )
    results = run_once(config, now=Clock(), fetcher=_fetcher())
    assert results[0].ok and results[0].new == 5
    assert len(server.requests) == 2


def test_cli_is_silent_on_success(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(FIXTURES / "ukraine-digest-2022-03-06.html", tmp_path / "good.html")
    path = write_config(tmp_path, [{"name": "local", "url": "good.html", "feed": "local"}])
    assert main(["run", "-c", str(path)]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert main(["run", "-c", str(path), "-v"]) == 0
    assert "source=local result=not-modified" in capsys.readouterr().err
