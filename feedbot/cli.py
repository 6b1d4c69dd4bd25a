"""The command line: ``feedbot run | daemon | serve | preview | status | history``.

Data goes to stdout, logs to stderr. Exit status: 0 all sources fine or unchanged, 1 a source failed,
2 usage or configuration error (or the lock is held).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .clock import utcnow
from .config import DEFAULT_CONCURRENCY, DEFAULT_USER_AGENT, Config, SourceConfig, load_config
from .errors import ConfigError, FeedbotError, LockError, NotFound, StoreError
from .fetch import Fetcher, FetchSettings
from .lock import RunLock
from .logfmt import JsonFormatter, text_formatter
from .model import RenderMode, RunResult, Split, SplitMode
from .redact import ScrubFilter
from .run import check_state, run_once, split_options
from .store import Store, read_state_error

if TYPE_CHECKING:
    from .split.explain import Explanation

log = logging.getLogger("feedbot")
DEFAULT_CONFIG = "feedbot.toml"


def _config_path(arg: str | None) -> str:
    return arg or os.environ.get("FEEDBOT_CONFIG") or DEFAULT_CONFIG


@dataclass(frozen=True)
class LogSettings:
    """What a command shows on stderr: ``level`` for feedbot's own records, and the levels of the
    libraries whose records go through the same handler (APScheduler, waitress)."""

    level: int
    fmt: str = "text"
    libraries: tuple[tuple[str, int], ...] = ()


def log_settings(args: argparse.Namespace) -> LogSettings:
    """The logging a command line asks for."""
    verbose: int = getattr(args, "verbose", 0)
    fmt: str = getattr(args, "log_format", "text")
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    if args.command == "run" and verbose == 0:
        # without -v the one-line errors cmd_run prints are the only output, so cron mails only
        # problems
        level = logging.CRITICAL
    elif args.command == "serve" and verbose == 0:
        level = logging.INFO  # a server's access log and its "serving on" line are its output
    elif args.command in ("daemon", "worker"):
        # a daemon (or a worker) logs one line per run by default (-q: only problems); -v adds debug detail
        level = logging.WARNING if args.quiet else logging.INFO if verbose == 0 else logging.DEBUG
    libraries: list[tuple[str, int]] = []
    if args.command == "daemon":
        libraries.append(("apscheduler", logging.INFO if verbose >= 2 else logging.ERROR))
    if args.command == "serve" or (args.command == "daemon" and args.serve):
        # waitress's own warnings through our handler; its per-request "Task queue depth" notes
        # under load would flood the log, so that one logger shows errors only
        libraries += [("waitress", logging.WARNING), ("waitress.queue", logging.ERROR)]
    return LogSettings(level, fmt, tuple(libraries))


@contextmanager
def cli_logging(settings: LogSettings) -> Iterator[logging.Handler]:
    """One stderr handler, owned by this command and removed when it returns: added to the
    ``feedbot`` logger (and the libraries named in ``settings``), whose levels are put back
    afterwards. Nothing else about the loggers changes — records still propagate, so an embedding
    program's own handlers (or pytest's) see them too."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ScrubFilter())  # no credentials of a URL in the log (feedbot.redact)
    if settings.fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(text_formatter())
    handler.setLevel(settings.level)
    package = logging.getLogger("feedbot")
    # (logger, its level before, whether the handler goes on it: not on a child of one that has it)
    changed: list[tuple[logging.Logger, int, bool]] = [(package, package.level, True)]
    for name, _ in settings.libraries:
        library = logging.getLogger(name)
        changed.append((library, library.level, "." not in name))
    # feedbot's records must be created at the level shown (the default effective level is WARNING)
    package.setLevel(min(settings.level, package.getEffectiveLevel()))
    for name, level in settings.libraries:
        logging.getLogger(name).setLevel(level)
    for logger, _, attach in changed:
        if attach:
            logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger, level, attach in changed:
            if attach:
                logger.removeHandler(handler)
            logger.setLevel(level)
        handler.close()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="feedbot", description="Turn digest pages into feeds.")
    parser.add_argument("--version", action="version", version=f"feedbot {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "-c",
            "--config",
            help=f"configuration file (default: $FEEDBOT_CONFIG or ./{DEFAULT_CONFIG})",
        )
        p.add_argument(
            "-v", "--verbose", action="count", default=0, help="log progress (-vv for debug)"
        )
        p.add_argument("--log-format", choices=("text", "json"), default="text")

    p_run = sub.add_parser("run", help="process every source once and write the feeds")
    common(p_run)
    p_run.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="NAME",
        help="only this source (repeatable)",
    )

    p_daemon = sub.add_parser(
        "daemon", help="run every source on its schedule until stopped (SIGHUP reloads the config)"
    )
    common(p_daemon)
    p_daemon.add_argument(
        "-q", "--quiet", action="store_true", help="log only warnings and errors, not every run"
    )
    p_daemon.add_argument(
        "--workers",
        type=int,
        default=DEFAULT_CONCURRENCY,
        help=f"sources processed at the same time (default {DEFAULT_CONCURRENCY})",
    )
    p_daemon.add_argument(
        "--max-backoff",
        default="6h",
        metavar="DURATION",
        help="longest wait between tries of a failing source (default 6h)",
    )
    p_daemon.add_argument(
        "--serve",
        action="store_true",
        help="also serve the feeds over HTTP, as `feedbot serve` does ([serve] host and port)",
    )
    p_daemon.add_argument("--host", help="with --serve: address to listen on (default 127.0.0.1)")
    p_daemon.add_argument("--port", type=int, help="with --serve: port (default 8080)")
    p_daemon.add_argument(
        "--shutdown-timeout",
        type=float,
        default=3.0,
        metavar="SECONDS",
        help="how long runs in flight may finish on SIGTERM before they are abandoned (default 3)",
    )

    p_prev = sub.add_parser("preview", help="show how a page splits, without touching the state")
    p_prev.add_argument("target", help="a URL, a file, or the name of a configured source")
    p_prev.add_argument("-c", "--config", help="configuration file (for source names and settings)")
    p_prev.add_argument("--json", action="store_true", help="machine-readable output")
    p_prev.add_argument("--split", choices=[mode.value for mode in SplitMode], default=None)
    p_prev.add_argument("--content-selector")
    p_prev.add_argument("--headline-selector")
    p_prev.add_argument("--headline-regex")
    p_prev.add_argument("--encoding")
    p_prev.add_argument(
        "--render",
        choices=[mode.value for mode in RenderMode],
        default=None,
        help="browser: run the page's scripts in headless Chromium first",
    )
    p_prev.add_argument(
        "--open",
        action="store_true",
        help="show it in your browser instead: the preview page, on 127.0.0.1 until Ctrl-C",
    )
    p_prev.add_argument("--port", type=int, default=0, help="with --open: port (default: any free)")
    p_prev.add_argument(
        "--allow-edit",
        action="store_true",
        help="with --open: the page may write its config lines into the config file",
    )
    p_prev.add_argument("-v", "--verbose", action="count", default=0)

    p_status = sub.add_parser("status", help="show each source's last run")
    common(p_status)
    p_status.add_argument("--json", action="store_true")

    p_hist = sub.add_parser("history", help="list an entry's revisions with what changed")
    common(p_hist)
    p_hist.add_argument("feed")
    p_hist.add_argument(
        "entry", nargs="?", help="entry id (default: list the feed's updated entries)"
    )

    p_serve = sub.add_parser(
        "serve", help="serve the feeds over HTTP (index, OPML, health) for feed readers"
    )
    common(p_serve)
    p_serve.add_argument("--host", help="address to listen on (default: [serve] host, 127.0.0.1)")
    p_serve.add_argument(
        "--port", type=int, help="port (default: [serve] port, 8080; 0 picks a free one)"
    )
    p_serve.add_argument(
        "--preview",
        action="store_true",
        help="also serve the preview page (/preview): it fetches pages, so it answers only this "
        "machine unless [serve] preview_token is presented",
    )
    p_serve.add_argument(
        "--allow-edit",
        action="store_true",
        help="with --preview on a loopback address: the preview page may write the config file",
    )
    p_migrate = sub.add_parser(
        "migrate-state",
        help="copy the SQLite state (and the feeds written) into an empty PostgreSQL database",
    )
    common(p_migrate)
    p_migrate.add_argument(
        "--to", required=True, metavar="URL", help="the PostgreSQL database: postgresql://…"
    )

    p_worker = sub.add_parser(
        "worker",
        help="with a PostgreSQL state: run sources on their schedules, sharing them with the "
        "workers on the other nodes (procrastinate)",
    )
    common(p_worker)
    p_worker.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="sources this worker runs at the same time (default: [feedbot] concurrency)",
    )
    p_worker.add_argument(
        "--shutdown-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="how long runs in flight may finish on SIGTERM (default 10); the rest are abandoned "
        "and picked up by the other workers",
    )
    p_worker.add_argument(
        "-q", "--quiet", action="store_true", help="log only warnings and errors, not every run"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    with cli_logging(log_settings(args)):
        return _dispatch(parser, args)


def _dispatch(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    try:
        if args.command == "run":
            return cmd_run(args)
        if args.command == "daemon":
            return cmd_daemon(args)
        if args.command == "preview":
            return cmd_preview(args)
        if args.command == "status":
            return cmd_status(args)
        if args.command == "history":
            return cmd_history(args)
        if args.command == "serve":
            return cmd_serve(args)
        if args.command == "migrate-state":
            return cmd_migrate_state(args)
        if args.command == "worker":
            return cmd_worker(args)
    except ConfigError as exc:
        for problem in exc.problems:  # every problem of the file, one line each
            print(f"feedbot: config error: {problem}", file=sys.stderr)
        return 2
    except LockError as exc:
        print(f"feedbot: {exc}", file=sys.stderr)
        return 2
    except StoreError as exc:
        print(f"feedbot: state error: {exc}", file=sys.stderr)
        return 1
    except FeedbotError as exc:
        print(f"feedbot: {exc}", file=sys.stderr)
        return 1
    parser.error(f"unknown command {args.command}")
    return 2


def cmd_run(args: argparse.Namespace) -> int:
    config = load_config(_config_path(args.config))
    unknown = [n for n in args.source if n not in {s.name for s in config.sources}]
    if unknown:
        raise ConfigError(
            str(config.path), "sources", f"no source named {', '.join(map(repr, unknown))}"
        )
    for warning in config.warnings():
        log.warning("%s", warning)  # once per run, shown with -v (cron stays quiet)
    progress = (
        _progress_bar(len(args.source) or len(config.sources)) if sys.stderr.isatty() else None
    )
    with RunLock(config.state_dir, config.lock_timeout):
        results = run_once(config, names=args.source, progress=progress)
    failed = [r for r in results if not r.ok]
    for result in failed:
        print(f"feedbot: {result.error}", file=sys.stderr)
    return 1 if failed else 0


def cmd_daemon(args: argparse.Namespace) -> int:
    from .daemon import Daemon, Service
    from .schedule import parse_duration

    try:
        max_backoff = parse_duration(args.max_backoff)
    except ValueError as exc:
        print(f"feedbot: --max-backoff: {exc}", file=sys.stderr)
        return 2
    if args.workers < 1 or args.shutdown_timeout < 0:
        print(
            "feedbot: --workers must be at least 1, --shutdown-timeout not negative",
            file=sys.stderr,
        )
        return 2
    services: list[Service] = []
    if args.serve:
        from .serve import ServeService

        services.append(ServeService(args.host, args.port))
    elif args.host or args.port is not None:
        print("feedbot: --host and --port need --serve", file=sys.stderr)
        return 2
    daemon = Daemon(
        _config_path(args.config),
        services=services,
        workers=args.workers,
        max_backoff=float(max_backoff),
        shutdown_timeout=args.shutdown_timeout,
    )
    return daemon.run()


def _progress_bar(total: int) -> Callable[[RunResult], None]:
    from tqdm import tqdm

    bar = tqdm(total=total, unit="source", file=sys.stderr, leave=False)

    def advance(result: RunResult) -> None:
        bar.set_postfix_str(result.source)
        bar.update(1)
        if bar.n >= total:
            bar.close()

    return advance


def _preview_source(args: argparse.Namespace) -> tuple[SourceConfig, Config | None, bool]:
    """The source to preview, the config (when there is one) and whether the source is one of its
    own."""
    config: Config | None = None
    path = _config_path(args.config)
    if args.config or Path(path).exists():
        config = load_config(path)
        for source in config.sources:
            if source.name == args.target:
                return source, config, True
    target = args.target
    if "://" not in target:
        resolved = Path(target).expanduser().resolve()
        if not resolved.exists():
            raise FeedbotError(f"preview: {target}: no such file, URL or configured source")
        target = resolved.as_uri()
    return SourceConfig(name="preview", url=target, feed="preview"), config, False


def cmd_preview(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from .run import fetch_page, fetch_settings
    from .split.explain import explain_page

    source, config, configured = _preview_source(args)
    if args.open:
        return _open_preview(args, source, config, configured)
    overrides = {
        "split": SplitMode(args.split) if args.split else None,
        "content_selector": args.content_selector,
        "headline_selector": args.headline_selector,
        "headline_regex": args.headline_regex,
        "encoding": args.encoding,
        "render": RenderMode(args.render) if args.render else None,
    }
    source = replace(source, **{k: v for k, v in overrides.items() if v is not None})
    settings = (
        fetch_settings(config)
        if config
        else FetchSettings(user_agent=f"{DEFAULT_USER_AGENT} preview")
    )
    fetcher = Fetcher(replace(settings, tries=1))
    try:
        page = fetch_page(fetcher, source, source.url, None)
    finally:
        fetcher.close()
    explained = explain_page(page.text, page.content_type, split_options(source, page))
    read_as = f"{page.markup} ({page.markup_reason})" if page.markup else ""
    if args.json:
        data = preview_json(explained.split, page.url, page.encoding, explained, read_as)
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(preview_text(explained.split, page.url, page.encoding, explained, read_as))
    return 0 if explained.split.items else 1


def _open_preview(
    args: argparse.Namespace, source: SourceConfig, config: Config | None, configured: bool
) -> int:
    """``feedbot preview --open``: the preview page on 127.0.0.1, opened in the user's browser."""
    import webbrowser
    from urllib.parse import urlencode

    from .serve import FeedServer, serve

    if config is None:
        if args.allow_edit:
            raise ConfigError(_config_path(args.config), None, "--allow-edit needs a config file")
        config = _adhoc_config(source)
    query = {"source": source.name} if configured else {"url": source.url}

    def opened(server: FeedServer) -> None:
        address = f"{server.url}preview?{urlencode(query)}"
        print(f"feedbot: the preview is on {address} (Ctrl-C stops it)", file=sys.stderr)
        webbrowser.open(address)

    serve(
        config,
        "127.0.0.1",
        args.port,
        preview=True,
        allow_edit=args.allow_edit,
        named_urls=() if configured else (source.url,),
        ready=opened,
    )
    return 0


def _adhoc_config(source: SourceConfig) -> Config:
    """A config holding only ``source``, for a preview without a config file (nothing is written:
    the preview never touches the state or the feeds)."""
    import tempfile

    from .config import FeedConfig

    scratch = Path(tempfile.gettempdir()) / "feedbot-preview"
    return Config(
        path=Path.cwd() / DEFAULT_CONFIG,
        state_dir=scratch / "state",
        feeds_dir=scratch / "feeds",
        sources=(source,),
        feeds=(FeedConfig(name=source.feed, title=source.feed, entries=50),),
        user_agent=f"{DEFAULT_USER_AGENT} preview",
    )


def preview_json(
    split: Split,
    url: str,
    encoding: str,
    explained: Explanation | None = None,
    read_as: str = "",
) -> dict[str, object]:
    """The preview as data. Stable keys (documented in the README): the split (title, structure,
    items, what was cut) and, with the explanation, the outline's levels with a headline_selector
    that forces each, the choice and why, and every block with its selector, role and item."""
    data: dict[str, object] = {
        "url": url,
        "encoding": encoding,
        "read_as": read_as,  # how the page was read (html, text, markdown) and why
        "published": split.published.isoformat() if split.published else None,
        "date_zone": split.date_zone,  # the zone a zone-less page date was read in, and why
        "title": split.title,
        "structure": split.structure,
        "single_article": split.single_article,
        "attribution": split.attribution,
        "candidates": [
            {"name": c.name, "headlines": c.count, "score": c.score, "reasons": list(c.reasons)}
            for c in split.candidates
        ],
        "items": [
            {
                "headline": i.headline,
                "anchor": i.anchor,
                "starts": i.body_text[:60],
                "ends": i.body_text[-60:],
                "chars": len(i.body_text),
                "attribution": i.attribution,
            }
            for i in split.items
        ],
        "dropped": [{"reason": d.reason, "text": d.text} for d in split.dropped],
    }
    if explained is not None:
        data["content"] = explained.content
        data["choice"] = {"level": explained.chosen, "why": list(explained.why)}
        data["levels"] = [
            {
                "name": v.name,
                "rank": v.rank,
                "headlines": v.headlines,
                "score": v.score,
                "viable": v.viable,
                "chosen": v.chosen,
                "verdict": v.verdict,
                "reasons": list(v.reasons),
                "selector": v.selector,
                "sample": list(v.sample),
            }
            for v in explained.levels
        ]
        data["blocks"] = [
            {
                "index": b.index,
                "tag": b.tag,
                "text": b.text,
                "selector": b.selector,
                "role": b.role,
                "item": b.item,
                "reason": b.reason,
            }
            for b in explained.blocks
        ]
        data["cut_regions"] = [
            {"reason": reason, "text": text[:80], "selector": selector}
            for reason, text, selector in explained.cut_regions
        ]
    return data


def preview_text(
    split: Split,
    url: str,
    encoding: str,
    explained: Explanation | None = None,
    read_as: str = "",
) -> str:
    lines = [f"page:      {url}", f"encoding:  {encoding}", f"title:     {split.title or '(none)'}"]
    if read_as:
        lines.insert(2, f"read as:   {read_as}")
    if split.published:
        zone = f" (read in {split.date_zone})" if split.date_zone else " (as the page states)"
        lines.append(f"date:      {split.published.isoformat()}{zone}")
    if split.single_article:
        lines.append("structure: a single article (kept as one item)")
    elif split.items:
        lines.append(f"structure: {split.structure} ({len(split.items)} items)")
    else:
        lines.append(
            "structure: none found: this page would give an error and leave the feed as it is"
        )
    if split.attribution:
        lines.append(f"source:    {split.attribution}")
    if explained is not None:
        lines += _explanation_lines(explained)
    lines.append("")
    lines.append("candidates (best first):")
    for c in split.candidates:
        lines.append(f"  {c.score:6.2f}  {c.name:<14} {c.count:3d}  {'; '.join(c.reasons)}")
    lines.append("")
    lines.append("items:")
    for item in split.items:
        first = item.body_text.replace("\n", " ")[:70]
        lines.append(f"  {item.position + 1:2d}. {item.headline}")
        lines.append(f"      {first}{'…' if len(item.body_text) > 70 else ''}")
    lines.append("")
    lines.append("cut:")
    for d in split.dropped:
        text = d.text if len(d.text) <= 90 else d.text[:89] + "…"
        lines.append(f"  [{d.reason}] {text}")
    return "\n".join(lines)


def _explanation_lines(explained: Explanation) -> list[str]:
    lines = [
        "",
        f"content:   {explained.content}",
        "",
        "outline (families of headlines, coarse first):",
    ]
    for v in explained.levels:
        mark = "*" if v.chosen else " "
        sample = " | ".join(v.sample)
        lines.append(
            f" {mark}{v.name:<14} rank {v.rank:2d} {v.headlines:3d} headlines  {sample[:60]}"
        )
        if v.verdict and not v.chosen:
            lines.append(f"      not chosen: {v.verdict}")
    lines.append("")
    lines.append(f"level:     {explained.chosen}")
    lines += [f"  because  {why}" for why in explained.why]
    return lines


def cmd_status(args: argparse.Namespace, now: Callable[[], datetime] = utcnow) -> int:
    """Each source's last run (and the daemon's next runs, and how long a run in progress has
    gone). A damaged or emptied state is reported in one line, and the exit status is 1."""
    from .daemon import read_daemon_state

    config = load_config(_config_path(args.config))
    daemon = read_daemon_state(config.state_dir)
    next_runs = daemon.next_runs if daemon else {}
    running = daemon.running if daemon else {}
    runs = {}
    counts: dict[str, int] = {}
    state_error = read_state_error(config.state_dir)
    problem = state_error.message if state_error else None
    if config.shared_state:
        try:
            with Store(config.store_location) as store:
                runs = store.source_runs()
                counts = {f.name: store.count_entries(f.name) for f in config.feeds}
        except StoreError as exc:
            problem = str(exc)
    elif config.db_path.exists() and config.db_path.stat().st_size == 0:
        problem = problem or f"{config.db_path}: the state database is empty (0 bytes)"
    elif config.db_path.exists() and state_error is None:
        try:
            with Store(config.db_path) as store:
                runs = store.source_runs()
                counts = {f.name: store.count_entries(f.name) for f in config.feeds}
        except StoreError as exc:
            problem = str(exc)
    moment = now()
    rows = []
    for source in config.sources:
        run = runs.get(source.name)
        since = running.get(source.name)
        rows.append(
            {
                "source": source.name,
                "feed": source.feed,
                "last_run": run.last_run.isoformat() if run else None,
                "last_success": run.last_success.isoformat() if run and run.last_success else None,
                "result": run.result if run else "never run",
                "failures": run.failures if run else 0,
                "last_error": config.scrub(run.error) if run and run.error else None,
                "error_kind": run.error_kind if run else None,
                "next_run": (
                    next_run.isoformat() if (next_run := next_runs.get(source.name)) else None
                ),
                "running_since": since.isoformat() if since else None,
                "running_seconds": int((moment - since).total_seconds()) if since else None,
                "items": run.items if run else 0,
                "feed_entries": counts.get(source.feed, 0),
            }
        )
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        if problem:
            print(f"feedbot: state error: {problem}", file=sys.stderr)
        return 1 if problem else 0
    if problem:
        print(f"state: {problem}")
    if daemon:
        print(f"daemon: running (pid {daemon.pid}, since {daemon.started.isoformat()})")
    else:
        print("daemon: not running")
    print(
        f"{'source':<20} {'result':<13} {'last run':<26} {'next run':<26} {'fails':>5} {'items':>5}"
        "  last error"
    )
    for row in rows:
        result = row["result"]
        seconds = row["running_seconds"]
        if isinstance(seconds, int):
            result = f"running {_duration(seconds)}"
        print(
            f"{row['source']:<20} {result:<13} {row['last_run'] or '-':<26} "
            f"{row['next_run'] or '-':<26} {row['failures']:>5} {row['items']:>5}  "
            f"{row['last_error'] or ''}"
        )
    return 1 if problem else 0


def _duration(seconds: int) -> str:
    """``75`` -> ``1m15s``: how long a run in progress has been going."""
    minutes, secs = divmod(max(0, seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def cmd_history(args: argparse.Namespace) -> int:
    from .history import format_history

    config = load_config(_config_path(args.config))
    feeds = [feed.name for feed in config.feeds]
    if args.feed not in feeds:  # before the state is opened (or created)
        raise NotFound(f"no feed named {args.feed!r} (the config has {', '.join(feeds)})")
    check_state(config)  # an emptied state is not opened (opening would make it a new one)
    with Store(config.store_location) as store:
        print(format_history(store, args.feed, args.entry, feeds=feeds))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from .previewapp import loopback_host
    from .serve import serve

    config = load_config(_config_path(args.config))
    if args.allow_edit and not args.preview:
        print("feedbot: --allow-edit needs --preview", file=sys.stderr)
        return 2
    if args.allow_edit and not loopback_host(args.host or config.serve.host):
        print(
            "feedbot: --allow-edit writes the config file, so it is only for a server on a "
            "loopback address such as 127.0.0.1",
            file=sys.stderr,
        )
        return 2
    serve(config, args.host, args.port, preview=args.preview, allow_edit=args.allow_edit)
    return 0


def cmd_migrate_state(args: argparse.Namespace) -> int:
    from .store import copy_state, display_location, is_postgres

    config = load_config(_config_path(args.config))
    if not is_postgres(args.to):
        print("feedbot: --to must be a postgresql:// URL", file=sys.stderr)
        return 2
    if not config.db_path.exists():
        print(f"feedbot: {config.db_path}: no SQLite state to copy", file=sys.stderr)
        return 2
    # no run may change the SQLite state while it is copied (a daemon holding it: exit at once)
    with RunLock(config.state_dir, config.lock_timeout):
        documents = _feed_documents(config)
        with Store(config.db_path) as source, Store(args.to) as target:
            copied = copy_state(source, target, documents=documents)
    for table in copied:
        print(f"{table.table:<16} {table.rows:>9} rows")
    print(f"{'feed documents':<16} {len(documents):>9} files")
    print(
        f"copied {config.db_path} into {display_location(args.to)}; to use it, set "
        '`state = "postgresql://…"` in [feedbot] and run `feedbot worker` on each node'
    )
    return 0


def _feed_documents(config: Config) -> list[tuple[str, bytes, int]]:
    """The feed files written so far (each configured feed in each format, and its archive pages),
    with their modification times in whole seconds, as Last-Modified gives them."""
    from .render import EXTENSIONS

    documents = []
    for feed in config.feeds:
        names = [f"{feed.name}.{EXTENSIONS[fmt]}" for fmt in feed.formats]
        if config.feeds_dir.is_dir():
            names += sorted(
                p.name
                for p in config.feeds_dir.glob(f"{feed.name}.archive-*.atom")
                if p.name.removeprefix(f"{feed.name}.archive-").removesuffix(".atom").isdigit()
            )
        for name in names:
            path = config.feeds_dir / name
            try:
                documents.append((name, path.read_bytes(), int(path.stat().st_mtime)))
            except FileNotFoundError:
                continue
    return documents


def cmd_worker(args: argparse.Namespace) -> int:
    from .worker import run_worker

    config_path = _config_path(args.config)
    config = load_config(config_path)
    if args.concurrency is not None and args.concurrency < 1:
        print("feedbot: --concurrency must be at least 1", file=sys.stderr)
        return 2
    status = run_worker(
        config,
        concurrency=args.concurrency or config.concurrency,
        shutdown_timeout=args.shutdown_timeout,
    )
    # Runs still in flight after the shutdown timeout (or stuck on a lost database) cannot be
    # interrupted: end the process, as the daemon does. Their transactions roll back, the last
    # complete state stays, and the other workers take their sources.
    for handler in logging.getLogger("feedbot").handlers:
        handler.flush()
    sys.stderr.flush()
    os._exit(status)


if __name__ == "__main__":
    sys.exit(main())
