"""A bad configuration names the file, the key and what is wrong, and exits with status 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedbot.cli import main
from feedbot.config import load_config
from feedbot.errors import ConfigError

GOOD_SOURCE = '[[sources]]\nname = "a"\nurl = "page.html"\nfeed = "f"\n'
UA = 'user_agent = "feedbot-tests/1 (+http://127.0.0.1/contact)"\n'


def _write(tmp_path: Path, text: str, *, user_agent: bool = True) -> Path:
    """A config file; with a user agent in [feedbot] unless the text sets one (or is told not to)."""
    if user_agent and "user_agent" not in text:
        if text.startswith("[feedbot]\n"):
            text = "[feedbot]\n" + UA + text.removeprefix("[feedbot]\n")
        else:
            text = "[feedbot]\n" + UA + text
    path = tmp_path / "feedbot.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        (
            "[feedbot]\nentries_per_feed = 0\n" + GOOD_SOURCE,
            "feedbot.entries_per_feed",
            "greater than zero",
        ),
        (
            "[feedbot]\nentries_per_feed = 'ten'\n" + GOOD_SOURCE,
            "feedbot.entries_per_feed",
            "integer",
        ),
        ("[feedbot]\nuser_agent = 'bot'\n" + GOOD_SOURCE, "feedbot.user_agent", "contact"),
        ("[feedbot]\nschedul = '1h'\n" + GOOD_SOURCE, "feedbot.schedul", "unknown key"),
        ("[feedbot]\nschedule = 'often'\n" + GOOD_SOURCE, "feedbot.schedule", "cron"),
        (
            "[feedbot]\nallow_networks = ['10.0.0.1/8']\n" + GOOD_SOURCE,
            "feedbot.allow_networks",
            "not an IP network",
        ),
        (
            "[feedbot]\nallow_networks = '10.0.0.0/8'\n" + GOOD_SOURCE,
            "feedbot.allow_networks",
            "list",
        ),
        ("[feedbot]\nsource_timeout = 0\n" + GOOD_SOURCE, "feedbot.source_timeout", "greater than"),
        (
            "[feedbot]\nrequest_timeout = 'soon'\n" + GOOD_SOURCE,
            "feedbot.request_timeout",
            "duration",
        ),
        (
            "[feedbot]\nsecret_params = ['']\n" + GOOD_SOURCE,
            "feedbot.secret_params[0]",
            "non-empty",
        ),
        ("", "sources", "at least one"),
        ('[[sources]]\nurl = "x.html"\n', "sources[0].name", "required"),
        ('[[sources]]\nname = "a"\n', "sources[0] (a).url", "required"),
        (
            '[[sources]]\nname = "a"\nurl = "ftp://x/y"\n',
            "sources[0] (a).url",
            "unsupported scheme",
        ),
        (
            '[[sources]]\nname = "a"\nurl = "x.html"\nsplit = "maybe"\n',
            "sources[0] (a).split",
            "auto",
        ),
        (
            '[[sources]]\nname = "a"\nurl = "x.html"\nheadline_regex = "("\n',
            "sources[0] (a).headline_regex",
            "regular expression",
        ),
        (
            '[[sources]]\nname = "a"\nurl = "x.html"\ncontent_selector = "div[["\n',
            "sources[0] (a).content_selector",
            "CSS selector",
        ),
        (
            '[[sources]]\nname = "a"\nurl = "x.html"\nencoding = "klingon"\n',
            "sources[0] (a).encoding",
            "unknown encoding",
        ),
        (GOOD_SOURCE + GOOD_SOURCE, "sources[1].name", "duplicate"),
        (GOOD_SOURCE + "[feeds.g]\ntitle = 'x'\n", "feeds.g", "no source writes"),
        (GOOD_SOURCE + "[feeds.f]\nupdate_policy = 'loud'\n", "feeds.f.update_policy", "mark"),
        (GOOD_SOURCE + "[feeds.f]\nformats = ['atom', 'html']\n", "feeds.f.formats", "not one of"),
        ("[feedbot\n", None, "invalid TOML"),
    ],
)
def test_bad_config_names_file_key_and_problem(
    tmp_path: Path, text: str, key: str | None, message: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.key == key
    assert message in info.value.message
    assert str(path) in str(info.value)


def test_cli_exits_2_on_config_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "[feedbot]\nentries_per_feed = -1\n" + GOOD_SOURCE)
    assert main(["run", "-c", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "feedbot.entries_per_feed" in err
    assert err.count("\n") == 1


def test_missing_config_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "-c", str(tmp_path / "nope.toml")]) == 2
    assert "file not found" in capsys.readouterr().err


def test_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    path = _write(tmp_path / "sub", '[feedbot]\nstate_dir = "st"\n' + GOOD_SOURCE)
    config = load_config(path)
    assert config.state_dir == tmp_path / "sub" / "st"
    assert config.feeds_dir == tmp_path / "sub" / "feeds"
    assert config.sources[0].url == (tmp_path / "sub" / "page.html").as_uri()
    assert config.feed("f").entries == 50
    assert config.feed("f").formats == ("atom",)


def test_feed_title_conflict(tmp_path: Path) -> None:
    text = (
        '[[sources]]\nname = "a"\nurl = "a.html"\nfeed = "f"\nfeed_title = "A"\n'
        '[[sources]]\nname = "b"\nurl = "b.html"\nfeed = "f"\nfeed_title = "B"\n'
    )
    with pytest.raises(ConfigError, match="disagree"):
        load_config(_write(tmp_path, text))


def test_example_config_is_valid() -> None:
    config = load_config(Path(__file__).parent.parent / "examples" / "feedbot.toml")
    assert {s.feed for s in config.sources} == {"ukraine", "ukraine-text", "ukraine-index"}
    assert config.source("ukraine-index").kind == "index"


def test_every_problem_in_one_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A config is checked whole: each problem named once, with its key, in one report."""
    text = (
        "[feedbot]\nentries_per_feed = 0\nschedul = '1h'\n"
        '[[sources]]\nname = "a"\nurl = "ftp://x/y"\nsplit = "maybe"\nheadline_regex = "("\n'
        '[[sources]]\nname = "b b"\nurl = "b.html"\ncontent_selector = "div[["\n'
        "[feeds.a]\nformats = ['atom', 'html']\n"
        "[serve]\nport = 99999\n"
    )
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    keys = [p.key for p in info.value.problems]
    assert keys == [
        "feedbot.entries_per_feed",
        "feedbot.schedul",
        "sources[0] (a).split",
        "sources[0] (a).headline_regex",
        "sources[0] (a).url",
        "sources[1].name",
        "sources[1].content_selector",
        "feeds.a.formats",
        "serve.port",
    ]
    assert main(["run", "-c", str(path)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == len(keys)
    for line, key in zip(lines, keys, strict=True):
        assert line.startswith(f"feedbot: config error: {path}: {key}: ")


def test_a_missing_user_agent_says_what_to_put_there(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD_SOURCE, user_agent=False)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.key == "feedbot.user_agent"
    assert info.value.message.startswith("is required: every site feedbot reads sees it")
    assert 'user_agent = "mybot/1.0 (+https://example.org/contact)"' in info.value.message
    example = load_config(Path(__file__).parent.parent / "examples" / "feedbot.toml")
    assert "example" in example.user_agent and "+https://" in example.user_agent


def test_render_and_preview_settings(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '[feedbot]\nbrowser = "/opt/chromium/chrome"\nrender_timeout = "45s"\n'
        '[serve]\npreview_token = "0123456789abcdefXYZ"\n' + GOOD_SOURCE + 'render = "browser"\n',
    )
    config = load_config(path)
    assert config.source("a").render == "browser"
    assert (config.browser, config.render_timeout) == ("/opt/chromium/chrome", 45.0)
    assert config.serve.preview_token == "0123456789abcdefXYZ"
    assert load_config(_write(tmp_path, GOOD_SOURCE)).source("a").render == "static"
    for bad, key in [
        (GOOD_SOURCE + 'render = "js"\n', "sources[0] (a).render"),
        ('[serve]\npreview_token = "short"\n' + GOOD_SOURCE, "serve.preview_token"),
        ("[feedbot]\nrender_timeout = 0\n" + GOOD_SOURCE, "feedbot.render_timeout"),
    ]:
        with pytest.raises(ConfigError) as info:
            load_config(_write(tmp_path, bad))
        assert info.value.key == key


def test_fetch_policy_and_deadline_settings(tmp_path: Path) -> None:
    import ipaddress

    from feedbot.redact import SECRET_PARAMS
    from feedbot.run import fetch_settings

    config = load_config(_write(tmp_path, GOOD_SOURCE))
    assert (config.request_timeout, config.source_timeout) == (60.0, 120.0)
    assert config.allow_networks == () and config.secret_params == SECRET_PARAMS
    config = load_config(
        _write(
            tmp_path,
            "[feedbot]\nallow_networks = ['10.0.0.0/8', 'fd00::/8']\nrequest_timeout = '1m'\n"
            "source_timeout = 90\nsecret_params = ['sesame']\n" + GOOD_SOURCE,
        )
    )
    settings = fetch_settings(config)
    assert settings.allow_networks == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("fd00::/8"),
    )
    assert (settings.request_timeout, settings.deadline) == (60.0, 90.0)
    assert config.shown("https://u:p@e.org/?sesame=1&token=2") == "https://e.org/?token=2"
