"""Crash safety: `feedbot run` killed with SIGKILL at a random moment loses and breaks nothing.

Each trial starts `python -m feedbot run` on a batch of digest pages (HTTP sources on a local server
and local files, three feeds in Atom, RSS and JSON) and kills it after a random delay: in half the
trials drawn uniformly from [0, the time an uninterrupted run takes], in the other half from its last
40 % — where the pages are stored and the feeds written (start-up and fetching take most of a run, so
uniform delays alone land few kills there). Half the trials start from an empty state (day 1), half
from a finished day-1 state with day-2 pages (new stories and edited ones, so feeds get rewritten).
After each kill:

- the database passes ``PRAGMA integrity_check`` and ``foreign_key_check``;
- every feed file present is a complete, valid feed, and it is either the feed as it was before the
  run or the complete feed of the whole batch — never half-written, never half a batch;
- the next run (not killed) succeeds and gives exactly the feeds of an uninterrupted run (the same
  entry ids and titles in every format), with no duplicate ids, no duplicate stored entries and no
  temporary files left behind.

Trials: FEEDBOT_KILL_TRIALS (default 8; the full proof is FEEDBOT_KILL_TRIALS=50). The delays come from
FEEDBOT_KILL_SEED (random by default); the seed is printed and named in every failure, so a failing
trial can be replayed.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from feedbot.cli import main

from .batch import (
    ROOT,
    SOURCES,
    Batch,
    Reference,
    check_database,
    difference,
    feedbot_argv,
    make_workdir,
    snapshot,
)

TRIALS = int(os.environ.get("FEEDBOT_KILL_TRIALS", "8"))
SEED = int(os.environ.get("FEEDBOT_KILL_SEED", str(random.SystemRandom().randrange(2**32))))


def sources_done(db_path: Path, since: str) -> int:
    """How many sources the killed run had recorded as done (-1: no schema yet)."""
    if not db_path.exists():
        return -1
    db = sqlite3.connect(db_path)
    try:
        try:
            query = "SELECT count(*) FROM source_runs WHERE last_run > ?"
            return int(db.execute(query, (since,)).fetchone()[0])
        except sqlite3.OperationalError:
            return -1  # killed before the schema was created
    finally:
        db.close()


@pytest.mark.timeout(60 + 15 * TRIALS)
def test_kill_at_random_moments_loses_and_breaks_nothing(
    batch: Batch, reference: Reference, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(SEED)
    landed: Counter[str] = Counter()
    with capsys.disabled():
        print(f"\nkill test: {TRIALS} trials, FEEDBOT_KILL_SEED={SEED}")
    for trial in range(TRIALS):
        second_day = trial % 2 == 1
        work = tmp_path / f"trial{trial}"
        if second_day:
            shutil.copytree(reference.before, work)
            before = reference.day1
            expected, entries = reference.day2, reference.entries2
            pages, limit = batch.day2, reference.seconds2
        else:
            work.mkdir()
            before, expected, entries = {}, reference.day1, reference.entries1
            pages, limit = batch.day1, reference.seconds1
        config = make_workdir(work, batch, pages)
        delay = rng.uniform(0, limit) if trial % 4 < 2 else rng.uniform(0.6 * limit, limit)
        where = f"trial {trial} (day {2 if second_day else 1}, kill after {delay:.3f}s, FEEDBOT_KILL_SEED={SEED})"

        proc = subprocess.Popen(
            feedbot_argv(config), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate()
        finished = proc.returncode == 0
        assert finished or proc.returncode == -signal.SIGKILL, f"{where}: {err.decode()}"

        db_path = work / "state" / "feedbot.sqlite3"
        done = sources_done(db_path, reference.last_run if second_day else "")
        try:
            check_database(db_path)
            now = snapshot(work / "feeds")
        except AssertionError as exc:
            raise AssertionError(f"{where}: after the kill: {exc}") from exc
        for name, feed_entries in now.items():
            assert feed_entries in (before.get(name), expected[name]), (
                f"{where}: {name} is neither the feed before the run nor the complete new feed"
            )
        changed = sum(now.get(n) == expected[n] != before.get(n) for n in expected)
        landed[
            "finished"
            if finished
            else "before the database"
            if done < 0
            else f"{min(done, len(SOURCES))}/{len(SOURCES)} sources, {changed} feed files new"
        ] += 1

        assert main(["run", "-c", str(config)]) == 0, f"{where}: the run after the kill failed"
        after = snapshot(work / "feeds")
        assert after == expected, (
            f"{where}: the feeds after the next run differ from a clean run: "
            + difference(after, expected)
        )
        for name, feed_entries in after.items():
            ids = [entry_id for entry_id, _ in feed_entries]
            assert len(ids) == len(set(ids)), f"{where}: duplicate ids in {name}"
        assert check_database(db_path) == entries, f"{where}: stored entries differ"
        leftovers = [p.name for p in (work / "feeds").iterdir() if p.name.startswith(".")]
        assert not leftovers, f"{where}: temporary files left behind: {leftovers}"
        shutil.rmtree(work)
    with capsys.disabled():
        print("kills landed: " + "; ".join(f"{k}: {n}" for k, n in sorted(landed.items())))
