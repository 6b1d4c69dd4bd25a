"""Storage faults: a full disk or a read-only directory gives a clear error and corrupts nothing.

The faults are real, not mocked: `feedbot run` runs in its own user and mount namespace
(``unshare --user --map-root-user --mount``, which needs no privileges and works as root too), where
the state or feeds directory is either a small tmpfs filled to the last byte (writes fail with
ENOSPC, as on a full disk) or a read-only bind mount of itself (EROFS). The files feedbot left on the
full tmpfs are copied out before the namespace ends.

Where user namespaces are not allowed, a full disk is approximated with RLIMIT_FSIZE = 0 (every write
that would grow a file fails with EFBIG) and a read-only directory with file permissions (not
possible as root, which ignores them: that case is then skipped and says why). FEEDBOT_FAULT_FALLBACK=1
forces the fallback.

Every case starts from a finished day-1 state and runs day-2 pages (new and edited stories). It must
exit non-zero with an error naming the path and the problem; the database passes its integrity check;
feeds are byte-identical to before (or, when only some files could be written, each one is either
the old file or the complete new one); and once the fault is cleared, the next run gives the complete
day-2 feeds — even though no page changed again in between.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import stat
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from feedbot.cli import main

from .batch import (
    ROOT,
    Batch,
    Reference,
    check_database,
    difference,
    feedbot_argv,
    make_workdir,
    snapshot,
)

# $1 mode (full | readonly), $2 directory, $3 KB to leave free, $4 stderr file, $5 where to copy the
# directory's final contents (full mode); then the command.
NAMESPACE_SCRIPT = r"""
set -eu
mode=$1; target=$2; free_kb=$3; err=$4; result=$5; shift 5
if [ "$mode" = full ]; then
    stash=$(mktemp -d)
    cp -a "$target/." "$stash/"
    mount -t tmpfs -o size=32m feedbot-full "$target"
    cp -a "$stash/." "$target/"
    rm -rf "$stash"
    dd if=/dev/zero of="$target/.filler" bs=4k 2>/dev/null || true
    if [ "$free_kb" -gt 0 ]; then truncate -s "-${free_kb}K" "$target/.filler"; fi
else
    mount --bind "$target" "$target"
    mount -o remount,bind,ro "$target"
fi
set +e
"$@" 2>"$err"
echo $? >"$err.rc"
set -e
if [ "$mode" = full ]; then
    rm -f "$target/.filler"
    mkdir -p "$result"
    cp -a "$target/." "$result/"
fi
"""


@cache
def namespaces() -> bool:
    if os.environ.get("FEEDBOT_FAULT_FALLBACK"):  # to check the fallback where namespaces work
        return False
    try:
        probe = subprocess.run(
            ["unshare", "--user", "--map-root-user", "--mount", "true"], capture_output=True
        )
    except OSError:
        return False
    return probe.returncode == 0


@dataclass
class Outcome:
    returncode: int
    stderr: str


def run_with_fault(mode: str, target: Path, argv: list[str], free_kb: int = 0) -> Outcome:
    """Run ``argv`` with ``target`` full (mode "full") or read-only (mode "readonly")."""
    err = target.parent / f"{target.name}.stderr"
    if namespaces():
        result = target.parent / f"{target.name}.after"
        subprocess.run(
            [
                "unshare",
                "--user",
                "--map-root-user",
                "--mount",
                "sh",
                "-c",
                NAMESPACE_SCRIPT,
                "sh",
                mode,
                str(target),
                str(free_kb),
                str(err),
                str(result),
                *argv,
            ],
            cwd=ROOT,
            check=True,
        )
        if mode == "full":
            shutil.rmtree(target)
            result.rename(target)
        return Outcome(int(Path(f"{err}.rc").read_text()), err.read_text())
    if mode == "full":
        if target.name == "feeds":
            pytest.skip(
                "no user namespaces here: RLIMIT_FSIZE cannot fill the feeds directory alone"
            )
        proc = subprocess.run(
            argv, cwd=ROOT, capture_output=True, text=True, preexec_fn=_no_file_growth
        )
        return Outcome(proc.returncode, proc.stderr)
    if os.geteuid() == 0:
        pytest.skip("no user namespaces here, and root ignores file permissions")
    modes = {p: p.stat().st_mode for p in [target, *target.rglob("*")]}
    for path, m in modes.items():
        path.chmod(m & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    try:
        proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    finally:
        for path, m in modes.items():
            path.chmod(m)
    return Outcome(proc.returncode, proc.stderr)


def _no_file_growth() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


FULL = ("No space left on device", "is full", "File too large", "disk I/O error")
READ_ONLY = ("Read-only file system", "read-only", "readonly", "Permission denied", "not writable")


def feed_bytes(work: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((work / "feeds").iterdir())}


@dataclass(frozen=True)
class Case:
    directory: str  # "state" or "feeds"
    mode: str  # "full" or "readonly"
    free_kb: int = 0
    partial: bool = False  # some pages or feed files may be written before the disk fills


CASES = {
    "state-full": Case("state", "full"),
    "state-read-only": Case("state", "readonly"),
    "feeds-full": Case("feeds", "full"),
    "state-nearly-full": Case("state", "full", free_kb=96, partial=True),
    "feeds-nearly-full": Case("feeds", "full", free_kb=-1, partial=True),  # see below
    "feeds-read-only": Case("feeds", "readonly"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_storage_fault_gives_clear_error_and_corrupts_nothing(
    batch: Batch, reference: Reference, tmp_path: Path, name: str
) -> None:
    case = CASES[name]
    work = tmp_path / "work"
    shutil.copytree(reference.before, work)
    config = make_workdir(work, batch, batch.day2)
    before = feed_bytes(work)
    target = work / case.directory

    free_kb = case.free_kb
    if free_kb < 0:  # room for the smallest feed file but not for all of them
        free_kb = min(len(data) for data in before.values()) // 1024 + 16
    outcome = run_with_fault(case.mode, target, feedbot_argv(config), free_kb)

    how = f"{name} ({'namespace' if namespaces() else 'fallback'}): {outcome.stderr}"
    print(how)
    assert outcome.returncode != 0, how
    assert "Traceback" not in outcome.stderr, how
    assert str(target) in outcome.stderr, how
    problems = FULL if case.mode == "full" else READ_ONLY
    assert any(p in outcome.stderr for p in problems), how
    entries = check_database(work / "state" / "feedbot.sqlite3")
    feeds = snapshot(work / "feeds")  # every file a complete, valid feed
    after = feed_bytes(work)
    assert set(after) == set(before), how
    if case.directory == "state" and case.partial:
        # pages stored before the disk filled are in the feeds; the others wait for the next run
        assert reference.entries1 <= entries < reference.entries2, how
    elif case.directory == "state":
        assert entries == reference.entries1, how  # nothing half-stored
        assert after == before, how
    else:
        assert entries == reference.entries2, how  # the pages were stored; only writing failed
        for feed, data in after.items():
            if data != before[feed]:
                assert case.partial, f"{name}: {feed} changed: {how}"
                assert feeds[feed] == reference.day2[feed], how

    # the fault cleared, the next run catches up although no page changed again
    assert main(["run", "-c", str(config)]) == 0, how
    assert snapshot(work / "feeds") == reference.day2, difference(
        snapshot(work / "feeds"), reference.day2
    )
    assert check_database(work / "state" / "feedbot.sqlite3") == reference.entries2
    leftovers = [p.name for p in (work / "feeds").iterdir() if p.name.startswith(".")]
    assert not leftovers, leftovers


@pytest.mark.parametrize("mode", ["full", "readonly"])
def test_fault_simulation_is_real(tmp_path: Path, mode: str) -> None:
    """The simulated fault stops writes as a real full disk or read-only mount would, so the tests
    above cannot pass by the fault silently not happening."""
    target = tmp_path / "dir"
    target.mkdir()
    (target / "old").write_text("kept")
    outcome = run_with_fault(
        mode, target, ["sh", "-c", f"head -c 100000 /dev/zero > {target}/probe"]
    )
    assert outcome.returncode != 0
    assert (target / "old").read_text() == "kept"
    probe = target / "probe"
    assert not probe.exists() or probe.stat().st_size < 100000


def test_the_log_is_copied_into_the_database_beside_the_writer(tmp_path: Path) -> None:
    """A run of many pages checkpoints in the background (its commits no longer stop for it):
    what it commits reaches the database file while it goes on, not only when it closes."""
    import time

    from feedbot.store import Store

    path = tmp_path / "state.sqlite3"
    with Store(path) as store:
        store.checkpoint_in_background()
        before = path.stat().st_size
        for n in range(20):
            with store.transaction() as db:
                db.execute(
                    "INSERT INTO store_settings (name, value) VALUES (?, ?)",
                    (f"filler{n}", "x" * 100_000),
                )
        deadline = time.monotonic() + 10
        while path.stat().st_size < before + 1_000_000 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert path.stat().st_size >= before + 1_000_000
        assert store.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    with Store(path) as store:
        assert store.db.execute("SELECT count(*) FROM store_settings").fetchone()[0] >= 20
