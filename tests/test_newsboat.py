"""A real feed reader: newsboat (the Debian package) subscribes to feeds served by ``feedbot serve``.

``feedbot serve`` runs as a subprocess (the command a user runs); the pipeline writes the feeds from the
ukraine fixtures in-process with a pinned clock; newsboat reloads non-interactively (``-x reload``)
with its own URL, cache and config files, and its cache (SQLite) is read to see what the reader shows.
newsboat 2.21 reads Atom and RSS (not JSON Feed): one reader subscribes to the Atom feed and another
to the RSS feed (one newsboat cache with both would merge them: it keys items by guid alone, and both
formats carry the same entry ids).

newsboat must be installed: ``bash tests/system-deps.sh`` installs it. Without it this test fails.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from feedbot.config import load_config
from feedbot.run import run_once

from .helpers import FIXTURES, Clock, check_atom, check_feedparser, write_config

FEEDS = ("ukraine.atom", "ukraine.rss")
UPDATED = "普京説打擊烏境內軍事基礎設施已接近尾聲"  # the story the 2022-03-07 page updates


def newsboat() -> str:
    path = shutil.which("newsboat")
    if path is None:
        raise AssertionError(
            "newsboat is not installed; this test needs the real feed reader. "
            "Install it with `bash tests/system-deps.sh` (apt-get install newsboat)."
        )
    return path


class ServerProcess:
    """``feedbot serve --port 0`` in a subprocess; its stderr (the access log) collected by a thread."""

    def __init__(self, config_path: Path) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "feedbot", "serve", "-c", str(config_path), "--port", "0"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.lines: list[str] = []
        self._seen = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        line = self.wait_for(r"serving \d+ feeds? from .* on (http://\S+)")
        match = re.search(r"on (http://\S+)", line)
        assert match
        self.base = match.group(1)

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._seen:
                self.lines.append(line.rstrip("\n"))
                self._seen.notify_all()

    def wait_for(self, pattern: str, start: int = 0, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        with self._seen:
            while True:
                for line in self.lines[start:]:
                    if re.search(pattern, line):
                        return line
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.proc.poll() is not None:
                    raise AssertionError(
                        f"feedbot serve never logged {pattern!r}; its output:\n"
                        + "\n".join(self.lines)
                    )
                self._seen.wait(remaining)

    def access(self, start: int) -> list[tuple[str, int]]:
        """(path, status) of the requests logged since line ``start``."""
        result = []
        for line in self.lines[start:]:
            match = re.search(r'"GET (\S+) HTTP/1\.[01]" (\d{3}) ', line)
            if match:
                result.append((match.group(1), int(match.group(2))))
        return result

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


@contextmanager
def feedbot_serve(config_path: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(config_path)
    try:
        yield server
    finally:
        server.stop()


class Reader:
    def __init__(self, directory: Path, url: str) -> None:
        directory.mkdir()
        self.dir = directory
        self.url = url
        self.name = url.rsplit("/", 1)[1]
        self.cache = directory / "cache.db"
        (directory / "urls").write_text(url + "\n", encoding="utf-8")
        (directory / "config").write_text(
            "download-retries 1\ndownload-timeout 20\nreload-threads 1\n", encoding="utf-8"
        )

    def reload(self, server: ServerProcess) -> list[tuple[str, int]]:
        """One ``newsboat -x reload``; returns the (path, status) the server logged for it."""
        before = len(server.lines)
        env = {
            **os.environ,
            "HOME": str(self.dir),
            "XDG_CONFIG_HOME": str(self.dir),
            "XDG_DATA_HOME": str(self.dir),
        }
        result = subprocess.run(
            [
                newsboat(),
                "-x",
                "reload",
                "-u",
                str(self.dir / "urls"),
                "-c",
                str(self.cache),
                "-C",
                str(self.dir / "config"),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr + result.stdout
        server.wait_for(rf'"GET /{re.escape(self.name)} HTTP', start=before)
        return server.access(before)

    def items(self) -> list[tuple[str, str, str]]:
        """(guid, title, content) of each item newsboat holds for its feed."""
        with sqlite3.connect(self.cache) as db:
            rows = db.execute(
                "SELECT guid, title, content FROM rss_item WHERE feedurl = ? AND deleted = 0",
                (self.url,),
            ).fetchall()
        return [(str(g), str(t), str(c)) for g, t, c in rows]


def test_newsboat_reads_the_served_feeds_and_revalidates_with_304(tmp_path: Path) -> None:
    newsboat()  # fail early and clearly when the reader is missing
    shutil.copy(FIXTURES / "ukraine-digest-2022-03-06.html", tmp_path / "digest.html")
    config_path = write_config(
        tmp_path,
        [{"name": "ukraine", "url": "digest.html", "feed_title": "Ukraine digest"}],
        feeds={"ukraine": {"update_policy": "mark", "formats": ["atom", "rss", "json"]}},
    )
    config = load_config(config_path)
    clock = Clock(datetime(2022, 3, 6, 9, 0, tzinfo=UTC))
    assert [r.new for r in run_once(config, now=clock)] == [5]

    with feedbot_serve(config_path) as server:
        readers = [Reader(tmp_path / name, server.base + name) for name in FEEDS]

        def reload_all() -> list[tuple[str, int]]:
            return [request for reader in readers for request in reader.reload(server)]

        # day 1: five stories in each subscription
        assert reload_all() == [("/ukraine.atom", 200), ("/ukraine.rss", 200)]
        for reader in readers:
            items = reader.items()
            assert len(items) == 5, (reader.url, items)
            assert len({guid for guid, _, _ in items}) == 5
            assert all("[updated]" not in title for _, title, _ in items)
        # newsboat keeps a feed's validators only from its second download (on the first, its
        # feed row does not exist yet when it saves them); from the third poll on it revalidates
        reload_all()
        assert reload_all() == [("/ukraine.atom", 304), ("/ukraine.rss", 304)]
        for reader in readers:
            assert len(reader.items()) == 5

        # day 2: one new story, one updated, three unchanged
        shutil.copy(FIXTURES / "ukraine-digest-2022-03-07.html", tmp_path / "digest.html")
        clock.now = datetime(2022, 3, 7, 9, 0, tzinfo=UTC)
        assert [(r.new, r.updated) for r in run_once(config, now=clock)] == [(1, 1)]
        check_atom((config.feeds_dir / "ukraine.atom").read_bytes())
        check_feedparser((config.feeds_dir / "ukraine.rss").read_bytes())
        assert reload_all() == [("/ukraine.atom", 200), ("/ukraine.rss", 200)]
        for reader in readers:
            items = reader.items()
            assert len(items) == 6, (reader.url, [t for _, t, _ in items])
            assert len({guid for guid, _, _ in items}) == 6  # no duplicates
            titles = [title for _, title, _ in items]
            assert len(set(titles)) == 6
            # the "mark" policy: the same entry (same guid), its title marked, what changed on top
            updated = [(t, c) for _, t, c in items if t.startswith(UPDATED)]
            assert len(updated) == 1, titles
            title, content = updated[0]
            assert title == f"{UPDATED} [updated]"
            assert "Updated 2022-03-07 09:00 UTC" in content
            assert "【更新】" in content
            assert sum("[updated]" in t for t in titles) == 1

        # an unchanged feed again: 304 for both, and nothing changes in the readers
        assert reload_all() == [("/ukraine.atom", 304), ("/ukraine.rss", 304)]
        for reader in readers:
            assert len(reader.items()) == 6
