"""Work on fetched content that a library does in unbounded time, run in a child process with a
time and a memory limit, so that no page can hold a run.

Owns: rendering a fetched Markdown page (:func:`markdown_page`: :func:`feedbot.markup.markdown_page`
in a child Python). python-markdown has no limits of its own — measured on this machine, 8,000
unclosed ``[`` in one paragraph take it 10 s and 50,000 over 8 minutes, 20,000 ``<http://`` over
20 s, a list nested 500 deep exceeds the recursion limit — and most of that time is spent in its
regular expressions, where no in-process meter can stop it. The child is killed at the limit and
the page is refused with a clear error; nothing of it is kept.
Must not: be used for anything that needs no limit (it costs a process start, ~0.1 s).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .markup import MarkdownError
from .pool import FORK_GUARD


@dataclass(frozen=True)
class ChildLimits:
    """What one child may take. The real Markdown pages of ``tests/fixtures/realpages`` (3–45 KB)
    render in 0.01–0.11 s in-process and ~0.15 s with the process start, far inside these."""

    seconds: float = 10.0  # wall clock, process start included
    memory: int = 1 << 30  # bytes of address space (RLIMIT_AS): 1 GiB


LIMITS = ChildLimits()
_ROOT = str(Path(__file__).resolve().parent.parent)  # where the feedbot package is imported from
_CHILD = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({memory}, {memory}))
sys.path.insert(0, {root!r})
from feedbot.markup import markdown_page
text = sys.stdin.buffer.read().decode("utf-8", "surrogatepass")
sys.stdout.buffer.write(markdown_page(text).encode("utf-8", "surrogatepass"))
"""


def markdown_page(text: str, limits: ChildLimits | None = None) -> str:
    """:func:`feedbot.markup.markdown_page` in a child process; :class:`MarkdownError` when the
    child runs out of time or memory, or fails. ``limits``: :data:`LIMITS` by default."""
    limits = limits or LIMITS
    code = _CHILD.format(memory=limits.memory, root=_ROOT)
    try:
        with FORK_GUARD.pipes():  # no page-pool child may be forked holding these pipes
            done = subprocess.run(
                [sys.executable, "-I", "-c", code],
                input=text.encode("utf-8", "surrogatepass"),
                capture_output=True,
                timeout=limits.seconds,
                check=False,
            )
    except subprocess.TimeoutExpired:
        raise MarkdownError(
            f"rendering the Markdown took over {limits.seconds:g} s (a page full of unclosed "
            "brackets or nested far too deep): refused"
        ) from None
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        why = lines[-1] if lines else f"exit status {done.returncode}"
        if "MemoryError" in why:
            why = f"it needs over {limits.memory >> 20} MiB"
        raise MarkdownError(f"the Markdown could not be rendered ({why})")
    return done.stdout.decode("utf-8", "surrogatepass")
