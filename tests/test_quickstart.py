"""The README's Quick start stays true: exactly two commands, the first installing only what the
bundled example needs (no test tools) and running it, the second installing the test extra and
running the tests; the example needs nothing of the test extra, and its base_url is where
``feedbot serve`` serves by default."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from feedbot.config import ServeConfig, load_config

ROOT = Path(__file__).parent.parent


def quick_start() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_quick_start_is_two_commands_install_and_run_then_test() -> None:
    first, second = quick_start()
    assert "pip install -e . " in first and "[test]" not in first
    assert first.endswith("feedbot run -c examples/feedbot.toml -v")
    assert "pip install -e '.[test]'" in second and "bash tests/system-deps.sh" in second
    assert second.endswith("python -m pytest")


def test_the_example_needs_nothing_of_the_test_extra(tmp_path: Path) -> None:
    """Run the example as the first command does, with every package that only the test extra
    (or the browser extra) installs made unimportable, as on a machine that installed only ``.``."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    core = {re.split(r"[<>=!~ \[]", d)[0].lower() for d in project["dependencies"]}
    extras = {
        re.split(r"[<>=!~ \[]", d)[0].lower()
        for group in project["optional-dependencies"].values()
        for d in group
    } - core
    modules = {
        "pytest": "pytest",
        "pytest-timeout": "pytest_timeout",
        "pytest-randomly": "pytest_randomly",
        "hypothesis": "hypothesis",
        "feedparser": "feedparser",
        "rnc2rng": "rnc2rng",
        "jsonschema": "jsonschema",
        "playwright": "playwright",
        "mypy": "mypy",
    }
    hidden = [modules[name] for name in sorted(extras) if name in modules]
    assert "pytest" in hidden and "playwright" in hidden
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    script = (
        "import sys\n"
        f"HIDDEN = {hidden!r}\n"
        "class Hide:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in HIDDEN:\n"
        "            raise ImportError(f'{name} is not installed here')\n"
        "sys.meta_path.insert(0, Hide())\n"
        "from feedbot.cli import main\n"
        f"sys.exit(main(['run', '-c', {str(tmp_path / 'examples' / 'feedbot.toml')!r}]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "feeds" / "ukraine.atom").exists()


def test_the_example_sets_base_url_for_feedbot_serve() -> None:
    config = load_config(ROOT / "examples" / "feedbot.toml")
    default = ServeConfig()
    assert config.base_url == f"http://{default.host}:{default.port}/"
    assert config.warnings() == []
