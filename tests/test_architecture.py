"""The shape of the package (docs/architecture.md): the pure core imports no I/O module.

The pure modules take values and return values; the shell modules fetch, store, write and serve.
An import from the core into the shell — even a lazy one inside a function, even through a third
module — would let I/O leak into code that is meant to be tested and reasoned about as data in,
data out. Two checks: the imports written in the source (``ast``, so imports inside functions
count), followed through the package; and what importing each pure module really loads.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import feedbot

PACKAGE = Path(feedbot.__file__).parent
PURE = (
    "config",
    "model",
    "identify",
    "signature",
    "decide",
    "render",
    "health",
    "index",
    "schedule",
    "text",
    "markup",
    "dates",
)
IO = (
    "fetch",
    "store",
    "write",
    "serve",
    "daemon",
    "run",
    "publish",
    "websub",
    "lock",
    "cli",
    "sandbox",
)
# libraries that only I/O code has any business loading
IO_LIBRARIES = ("requests", "sqlite3", "waitress", "psycopg", "subprocess")


def _imports(module: str) -> set[str]:
    """The feedbot modules ``module`` imports anywhere in its source, and the top-level names of
    the other packages it imports."""
    path = PACKAGE / f"{module}.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                found.add(parts[1] if parts[0] == "feedbot" and len(parts) > 1 else parts[0])
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                parts = node.module.split(".")
                if parts[0] != "feedbot":
                    found.add(parts[0])
                    continue
                parts = parts[1:]
            else:
                parts = (node.module or "").split(".") if node.module else []
            if parts and parts[0]:
                found.add(parts[0])
            else:  # "from . import x": x is a module of the package (or a name in __init__)
                found.update(alias.name for alias in node.names)
    return found


def _modules() -> set[str]:
    return {path.stem for path in PACKAGE.glob("*.py")}


def _reachable(start: str) -> dict[str, list[str]]:
    """Every feedbot module and library reachable from ``start``, each with the import chain."""
    own = _modules()
    chains: dict[str, list[str]] = {start: [start]}
    todo = [start]
    while todo:
        module = todo.pop()
        for name in sorted(_imports(module)):
            if name in chains:
                continue
            chains[name] = [*chains[module], name]
            if name in own:
                todo.append(name)
    return chains


def test_the_modules_named_exist() -> None:
    assert set(PURE) <= _modules(), set(PURE) - _modules()
    assert {"fetch", "store", "write", "serve", "daemon"} <= _modules()


@pytest.mark.parametrize("module", PURE)
def test_a_pure_module_reaches_no_io_module(module: str) -> None:
    chains = _reachable(module)
    bad = {name: " -> ".join(chain) for name, chain in chains.items() if name in IO}
    bad |= {name: " -> ".join(chain) for name, chain in chains.items() if name in IO_LIBRARIES}
    assert not bad, f"feedbot.{module} imports I/O: {bad}"


def test_the_walk_sees_lazy_and_indirect_imports(tmp_path: Path) -> None:
    """The check above can fail: an I/O import inside a function, or two modules away, is found."""
    assert "store" in _reachable("cli")  # cli -> store at the top
    assert "serve" in _reachable("cli")  # cli -> serve inside a function (cmd_serve)
    assert "requests" in _reachable("run")  # run -> fetch -> requests


def test_importing_a_pure_module_loads_no_io() -> None:
    """What Python really loads (catches anything the source walk could miss)."""
    script = (
        "import importlib, json, sys\n"
        f"result = {{}}\n"
        f"for name in {list(PURE)!r}:\n"
        "    before = set(sys.modules)\n"
        "    importlib.import_module('feedbot.' + name)\n"
        "    result[name] = sorted(set(sys.modules) - before)\n"
        "print(json.dumps(result))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    loaded: dict[str, list[str]] = json.loads(out)
    forbidden = {f"feedbot.{m}" for m in IO} | set(IO_LIBRARIES)
    for module, names in loaded.items():
        bad = [n for n in names if n in forbidden or n.split(".")[0] in IO_LIBRARIES]
        assert not bad, f"importing feedbot.{module} loads {bad}"


def test_only_the_store_speaks_sql() -> None:
    users = sorted(m for m in _modules() if {"sqlite3", "psycopg", "psycopg_pool"} & _imports(m))
    assert users == ["store"]


def test_each_tables_column_list_is_its_schema(tmp_path: Path) -> None:
    """The store lists each table's columns once; the lists are the tables' real columns."""
    from feedbot import store

    lists = {
        "entries": ("id", *store.ENTRIES),
        "revisions": store.REVISIONS,
        "appearances": store.APPEARANCES,
        "validators": store.VALIDATORS,
        "index_pages": store.INDEX_PAGES,
        "source_runs": store.SOURCE_RUNS,
    }
    with store.Store(tmp_path / "s.db") as db:
        for table, columns in lists.items():
            schema = [row["name"] for row in db.db.execute(f"PRAGMA table_info({table})")]
            assert sorted(schema) == sorted(columns), table
            assert len(set(columns)) == len(columns), table


def _clock_reads(module: str) -> list[str]:
    """Calls in ``module`` that read the wall clock (references, e.g. as a default, do not)."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in ("utcnow", "utcnow_exact"):
            found.append(f"{module}:{node.lineno} {func.id}()")
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            owner, attr = func.value.id, func.attr
            if (owner, attr) in {
                ("datetime", "now"),
                ("datetime", "utcnow"),
                ("datetime", "today"),
                ("date", "today"),
                ("time", "time"),
                ("time", "time_ns"),
                ("clock", "utcnow"),
            }:
                found.append(f"{module}:{node.lineno} {owner}.{attr}()")
    return found


def test_one_clock() -> None:
    """Only feedbot.clock reads the time; everything else is handed ``now`` (STYLE.md, habit 3)."""
    reads = [read for m in sorted(_modules() - {"clock"}) for read in _clock_reads(m)]
    assert reads == []
    assert _clock_reads("clock")  # the check sees a read where there is one


def test_starting_feedbot_loads_nothing_a_run_where_nothing_changed_does_not_need() -> None:
    """Start-up is part of every cron run, and of a run where every page answers 304 it is half:
    the libraries that split, identify, render, render Markdown and run worker processes are
    imported where they are first needed (bench/README.md, issue 17); nh3 loads in a millisecond."""
    heavy = (
        "lxml",
        "bs4",
        "soupsieve",
        "opencc",
        "feedgen",
        "markdown",
        "multiprocessing",
        "feedbot.split",
        "feedbot.decide",
        "feedbot.identify",
    )
    script = "import json, sys\nimport feedbot.cli\nprint(json.dumps(sorted(sys.modules)))\n"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    loaded = json.loads(out)
    assert [m for m in loaded if m in heavy or m.split(".")[0] in heavy[:7]] == []
