"""A damaged state database is a clear one-line error naming it — never a traceback — recorded
where `feedbot status` and /healthz (503) show it, with the feeds left as they were; an empty
database file while the feeds hold entries is refused (history would be lost and every story get a
new id), with a message saying how to start afresh on purpose."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from feedbot.cli import main
from feedbot.config import Config, load_config

from .helpers import FIXTURES, write_config
from .test_serve import running

PAGE = (FIXTURES / "ukraine-digest-2022-03-06.html").read_bytes()


@pytest.fixture
def site(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Config:
    """A config whose first run went well, its database checkpointed (no WAL beside it)."""
    (tmp_path / "page.html").write_bytes(PAGE)
    path = write_config(tmp_path, [{"name": "s", "url": "page.html", "feed": "f"}])
    assert main(["run", "-c", str(path)]) == 0
    config = load_config(path)
    db = sqlite3.connect(config.db_path)
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{config.db_path}{suffix}").unlink(missing_ok=True)
    capsys.readouterr()
    return config


def flip(path: Path, start: int, length: int | None = None) -> None:
    data = bytearray(path.read_bytes())
    end = len(data) if length is None else start + length
    for i in range(start, end):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def feeds(config: Config) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(config.feeds_dir.iterdir())}


@pytest.mark.parametrize(
    ("start", "length"),
    [(0, 16), (4096, None)],
    ids=["header", "pages-after-the-first"],
)
def test_a_corrupt_database_is_one_clear_line_recorded_for_status_and_healthz(
    site: Config, capsys: pytest.CaptureFixture[str], start: int, length: int | None
) -> None:
    before = feeds(site)
    flip(site.db_path, start, length)
    (site.path.parent / "page.html").write_bytes(PAGE.replace(b"</body>", b"<p>New.</p></body>"))

    status = main(["run", "-c", str(site.path)])
    err = capsys.readouterr().err
    assert status != 0
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert str(site.db_path) in lines[0] and "corrupt" in lines[0]
    assert feeds(site) == before

    assert main(["status", "-c", str(site.path)]) != 0
    shown = capsys.readouterr()
    assert "corrupt" in shown.out + shown.err and "Traceback" not in shown.err

    with running(site) as client:
        reply = client.request("/healthz")
    assert reply.status == 503
    body = json.loads(reply.body)
    assert body["status"] == "error" and body["error_kind"] == "state-corrupt"


def test_an_empty_database_file_beside_feeds_with_entries_is_refused(
    site: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    before = feeds(site)
    site.db_path.write_bytes(b"")
    status = main(["run", "-c", str(site.path)])
    err = capsys.readouterr().err
    assert status != 0 and "Traceback" not in err
    assert str(site.db_path) in err and "empty" in err
    assert "to start afresh" in err  # and how
    assert site.db_path.stat().st_size == 0  # not silently made into a new, empty state
    assert feeds(site) == before

    # starting afresh on purpose, as the message says: remove the file
    site.db_path.unlink()
    assert main(["run", "-c", str(site.path)]) == 0


def test_an_empty_database_file_with_no_feeds_yet_is_a_new_state(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_bytes(PAGE)
    path = write_config(tmp_path, [{"name": "s", "url": "page.html", "feed": "f"}])
    config = load_config(path)
    config.state_dir.mkdir(parents=True)
    config.db_path.write_bytes(b"")  # touched by an installer, say
    assert main(["run", "-c", str(path)]) == 0
