"""Credentials in a configured URL stay out of public outputs: the rule on its own (the outputs
themselves: tests/test_secrets.py)."""

from __future__ import annotations

import logging

import pytest

from feedbot.redact import ScrubFilter, public_url, scrub


@pytest.mark.parametrize(
    ("url", "public"),
    [
        ("https://user:pa55@example.org/d.html", "https://example.org/d.html"),
        ("https://user@example.org:8443/d.html", "https://example.org:8443/d.html"),
        ("https://:pw@[2001:db8::1]/d", "https://[2001:db8::1]/d"),
        ("https://a%40b:p%3Aw@example.org/", "https://example.org/"),
        ("https://example.org/d?token=abc&page=2", "https://example.org/d?page=2"),
        (
            "https://example.org/d?page=2&API_KEY=abc&x=%2F+y",
            "https://example.org/d?page=2&x=%2F+y",
        ),
        ("https://example.org/d?access%5Ftoken=abc", "https://example.org/d"),
        ("https://example.org/d?token", "https://example.org/d"),
        ("https://example.org/d?tokens=1#frag", "https://example.org/d?tokens=1#frag"),
        ("https://example.org/d", "https://example.org/d"),
        ("file:///srv/pages/d.html", "file:///srv/pages/d.html"),
        ("http://u:p@example.org:bad/x", "http://example.org:bad/x"),
    ],
)
def test_public_url(url: str, public: str) -> None:
    assert public_url(url) == public


def test_configured_names_replace_the_built_in_list() -> None:
    assert public_url("https://e.org/?token=1&sesame=2", ["Sesame"]) == "https://e.org/?token=1"
    assert public_url("https://u:p@e.org/?token=1", []) == "https://e.org/?token=1"


def test_scrub_every_url_in_a_message() -> None:
    message = (
        "source 's': https://bob:hunter2@example.org/d?token=abc: refused: redirect to "
        "http://alice:pw@10.0.0.1/x?key=k&a=1 (see https://example.org/help?sig=s)."
    )
    clean = scrub(message)
    for secret in ("hunter2", "bob", "abc", "alice", "pw@", "key=k", "sig=s"):
        assert secret not in clean
    assert clean == (
        "source 's': https://example.org/d: refused: redirect to "
        "http://10.0.0.1/x?a=1 (see https://example.org/help)."
    )


def test_the_log_filter_scrubs_messages_and_arguments() -> None:
    record = logging.LogRecord(
        "feedbot",
        logging.ERROR,
        __file__,
        1,
        "source=%s error=%s",
        ("s", "https://u:p@e.org/?token=t: 404"),
        None,
    )
    assert ScrubFilter().filter(record)
    assert record.getMessage() == "source=s error=https://e.org/: 404"
