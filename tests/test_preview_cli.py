"""The preview from the command line: ``feedbot preview --open`` (a real server, the user's browser
told where to go), ``feedbot serve --preview`` refusing what only this machine may do, and the
options that must not combine."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from feedbot.cli import main

from .helpers import FIXTURES, Response, Server, write_config


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy
    try:
        with opener.open(request, timeout=20) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8")


def test_preview_open_serves_the_page_and_opens_the_browser(tmp_path: Path, server: Server) -> None:
    """``feedbot preview --open URL``: a preview server on 127.0.0.1 whose address goes to the
    user's browser ($BROWSER here: a script that writes down what it was asked to open); the URL
    named on the command line is fetched as the user's own; Ctrl-C stops it with status 0."""
    server.routes["/digest.html"] = Response(
        200, (FIXTURES / "ukraine-digest-2022-03-06.html").read_bytes()
    )
    opened = tmp_path / "opened.txt"
    recorder = tmp_path / "browser.sh"
    recorder.write_text(f'#!/bin/sh\necho "$1" > {opened}\n')
    recorder.chmod(0o755)
    env = {**os.environ, "BROWSER": f"{recorder} %s", "NO_PROXY": "*"}
    url = server.url("/digest.html")
    process = subprocess.Popen(
        [sys.executable, "-m", "feedbot", "preview", "--open", url],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not (opened.exists() and opened.read_text().strip()):
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the browser was never opened"
            time.sleep(0.05)
        address = opened.read_text().strip()
        assert address.startswith("http://127.0.0.1:") and "/preview?url=" in address
        status, body = _get(address)
        assert status == 200
        assert body.count('data-fb-role="headline"') == 5
        assert "王毅應約同美國國務卿布林肯通電話" in body
        # the same server from "elsewhere" (through a proxy on this machine): nothing is fetched
        fetched = len(server.requests)
        status, body = _get(address, {"X-Forwarded-For": "192.0.2.10"})
        assert status == 403 and len(server.requests) == fetched
        status, _ = _get(address.replace("127.0.0.1", "localhost"))
        assert status == 200  # localhost names this machine too
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert f"the preview is on {address}" in err


def test_allow_edit_only_with_the_preview_on_loopback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path, [{"name": "s", "url": "p.html"}])
    assert main(["serve", "-c", str(path), "--allow-edit"]) == 2
    assert "--allow-edit needs --preview" in capsys.readouterr().err
    assert main(["serve", "-c", str(path), "--preview", "--allow-edit", "--host", "0.0.0.0"]) == 2
    assert "only for a server on a loopback address" in capsys.readouterr().err
