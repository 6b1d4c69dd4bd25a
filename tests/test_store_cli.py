"""State database versioning, the run lock, preview, status and history."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from feedbot.cli import main
from feedbot.errors import StoreError
from feedbot.lock import RunLock
from feedbot.store import SCHEMA_VERSION, Store

from .helpers import FIXTURES, write_config


def test_new_database_gets_current_schema(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    db.close()
    with pytest.raises(StoreError, match="newer feedbot"):
        Store(path)


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match=str(path)):
        Store(path)


def test_lock_blocks_a_second_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(FIXTURES / "ukraine-digest-2022-03-06.html", tmp_path / "p.html")
    path = write_config(tmp_path, [{"name": "s", "url": "p.html", "feed": "f"}], lock_timeout=0.3)
    with RunLock(tmp_path / "state", 1):
        assert main(["run", "-c", str(path)]) == 2
    assert "another feedbot run" in capsys.readouterr().err
    assert main(["run", "-c", str(path)]) == 0


def test_preview_shows_the_split_without_state(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = FIXTURES / "ukraine-digest-2022-03-06.html"
    assert main(["preview", str(page), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["structure"] == "bold"
    assert len(data["items"]) == 5
    assert data["items"][0]["headline"] == "烏方代表團確認將於7日舉行第三輪俄烏談判"
    assert any(d["reason"] == "attribution" for d in data["dropped"])
    assert data["candidates"][0]["name"] == "bold"
    assert main(["preview", str(page)]) == 0
    out = capsys.readouterr().out
    assert "structure: bold (5 items)" in out and "[attribution]" in out
    assert not (tmp_path / "state").exists()


def test_status_and_history(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "p.html"
    shutil.copy(FIXTURES / "ukraine-digest-2022-03-06.html", page)
    path = write_config(tmp_path, [{"name": "s", "url": "p.html", "feed": "f"}])
    assert main(["run", "-c", str(path)]) == 0
    shutil.copy(FIXTURES / "ukraine-digest-2022-03-07.html", page)
    assert main(["run", "-c", str(path)]) == 0
    capsys.readouterr()
    assert main(["status", "-c", str(path), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["source"] == "s" and rows[0]["result"] == "ok" and rows[0]["failures"] == 0
    assert rows[0]["items"] == 6 and rows[0]["feed_entries"] == 6
    assert main(["history", "-c", str(path), "f"]) == 0
    listing = capsys.readouterr().out
    line = next(ln for ln in listing.splitlines() if "普京" in ln)
    assert line.split()[0] == "2"
    entry_id = next(part for part in line.split() if part.startswith("urn:uuid:"))
    assert main(["history", "-c", str(path), "f", entry_id]) == 0
    out = capsys.readouterr().out
    assert "revision 2" in out and "{+" in out and "【更新】" in out


@pytest.mark.parametrize(
    ("old", "new", "diff"),
    [
        ("普京表示谈判继续", "普京表示谈判暂停", "普京表示谈判[-继续-]{+暂停+}"),
        ("ロシア軍が撤退した", "ロシア軍が前進した", "ロシア軍が[-撤退-]{+前進+}した"),
        # Hangul is CJK text too (the history's own copy of the range once lacked it, so Korean
        # changes came out a whole word at a time)
        ("정부는 협상을 계속한다", "정부는 협상을 중단한다", "정부는 협상을 [-계속-]{+중단+}한다"),
        ("talks will continue", "talks will stop", "talks will [-continue-]{+stop+}"),
    ],
)
def test_history_diffs_cjk_by_character_and_other_text_by_word(
    old: str, new: str, diff: str
) -> None:
    from feedbot.history import diff_text

    assert diff_text(old, new) == diff


def test_a_source_error_names_the_url_it_was_given_last() -> None:
    """The runner fills in the source's URL when an error has none; the message says it (it was
    formatted once, at construction, and kept the empty URL)."""
    from feedbot.errors import FetchError

    error = FetchError("s", "", "HTTP 500")
    error.url = "https://example.org/digest"
    assert str(error) == "source 's': https://example.org/digest: HTTP 500"


def test_history_names_what_does_not_exist_and_lists_only_updated_entries(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "p.html"
    shutil.copy(FIXTURES / "ukraine-digest-2022-03-06.html", page)
    path = write_config(tmp_path, [{"name": "s", "url": "p.html", "feed": "f"}])
    assert main(["run", "-c", str(path)]) == 0
    capsys.readouterr()
    assert main(["history", "-c", str(path), "f"]) == 0  # five entries, none updated yet
    assert capsys.readouterr().out.strip() == (
        "no updated entries in feed f (5 entries, none changed since first seen)"
    )
    assert main(["history", "-c", str(path), "nosuchfeed"]) == 1
    assert capsys.readouterr().err.strip() == (
        "feedbot: no feed named 'nosuchfeed' (the config has f)"
    )
    assert (
        main(["history", "-c", str(path), "f", "urn:uuid:00000000-0000-0000-0000-000000000000"])
        == 1
    )
    assert capsys.readouterr().err.strip() == (
        "feedbot: no entry urn:uuid:00000000-0000-0000-0000-000000000000 in feed f"
    )
    shutil.copy(FIXTURES / "ukraine-digest-2022-03-07.html", page)
    assert main(["run", "-c", str(path)]) == 0
    capsys.readouterr()
    assert main(["history", "-c", str(path), "f"]) == 0
    listed = capsys.readouterr().out.splitlines()[1:]
    assert len(listed) == 1 and listed[0].split()[0] == "2" and "普京" in listed[0]
