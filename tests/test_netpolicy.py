"""The fetch policy as a rule (feedbot.netpolicy), without the network: which URLs and addresses a
page may lead to, in every spelling. The same rule in a run: tests/test_fetch_policy.py."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path
from typing import Any

import pytest

from feedbot import netpolicy
from feedbot.netpolicy import Context, Refused, check_address, check_url

ORIGIN = Context.for_source("http://127.0.0.1:8001/digest.html")


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.1",
        "127.0.0.2",
        "2130706433",
        "017700000001",
        "0x7f000001",
        "0x7f.0.0.1",
        "0177.0.0.1",
        "127.000.000.001",
        "0",
        "0.0.0.0",
        "localhost",
        "LOCALHOST",
        "localhost.",
        "foo.localhost",
        "[::1]",
        "[0:0:0:0:0:0:0:1]",
        "[::]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[::ffff:10.0.0.1]",
        "[2002:7f00:1::]",
        "[64:ff9b::7f00:1]",
        "10.0.0.1",
        "10.1",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "[fe80::1]",
        "[fc00::1]",
        "[fd12:3456::1]",
        "[fec0::1]",
        "100.64.0.1",
        "224.0.0.1",
        "[ff02::1]",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.2.1",
        "198.18.0.1",
    ],
)
def test_internal_addresses_are_refused_in_every_spelling(host: str) -> None:
    url = f"http://{host}:8001/digest/2024-01-01.html"
    if host in ("127.0.0.1",):
        url = f"http://{host}:8002/digest.html"  # the origin's host on another port
    with pytest.raises(Refused) as caught:
        check_url(url, ORIGIN)
    assert "refused" in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org/digest.html",
        "https://example.org:8443/digest.html",
        "http://93.184.215.14/x",
        "http://[2606:4700::1111]/x",
        "http://[::ffff:93.184.215.14]/x",
        "http://127.0.0.1:8001/other-page.html",  # the source's own origin
    ],
)
def test_public_addresses_and_the_sources_own_origin_are_allowed(url: str) -> None:
    check_url(url, ORIGIN)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "file://localhost/etc/passwd",
        "file:/etc/passwd",
        "file:///etc/passwd?/digest/2024-01-01.html",
        "gopher://127.0.0.1:8001/",
        "ftp://example.org/digest.html",
        "javascript:alert(1)",
        "data:text/html,<h2>x</h2>",
        "https://127.0.0.1:8001/digest.html",  # the origin's host and port, but not its scheme
    ],
)
def test_only_http_and_https_from_the_network(url: str) -> None:
    with pytest.raises(Refused):
        check_url(url, ORIGIN)


def test_a_local_index_leads_only_to_files_in_its_own_directory(tmp_path: Path) -> None:
    (tmp_path / "pages").mkdir()
    index = tmp_path / "pages" / "index.html"
    index.write_text("<a href='a.html'>a</a>")
    (tmp_path / "pages" / "a.html").write_text("a")
    (tmp_path / "secret.html").write_text("secret")
    (tmp_path / "pages" / "escape.html").symlink_to(tmp_path / "secret.html")
    context = Context.for_source(index.as_uri())
    check_url(index.as_uri(), context)
    check_url((tmp_path / "pages" / "a.html").as_uri(), context)
    for bad in (
        (tmp_path / "secret.html").as_uri(),
        (tmp_path / "pages" / "escape.html").as_uri(),  # a link in the directory to outside it
        (tmp_path / "pages" / "a.html").as_uri() + "?/digest/2024-01-01.html",
        "file:///etc/passwd",
    ):
        with pytest.raises(Refused):
            check_url(bad, context)


def test_allow_networks_opens_only_what_it_names() -> None:
    context = Context.for_source(
        "https://example.org/", netpolicy.parse_networks(["10.0.0.0/8", "fd00::/8"])
    )
    check_address("10.1.2.3", context)
    check_address("fd00::5", context)
    check_address("::ffff:10.1.2.3", context)
    for refused in ("172.16.0.1", "127.0.0.1", "169.254.169.254"):
        with pytest.raises(Refused):
            check_address(refused, context)
    with pytest.raises(ValueError, match=r"10\.0\.0\.1/8"):
        netpolicy.parse_networks(["10.0.0.1/8"])


def test_the_origin_exception_is_scheme_host_and_port() -> None:
    origin = netpolicy.Origin.of("http://127.0.0.1:8001/")
    check_address("127.0.0.1", ORIGIN, origin=origin)
    for other in ("http://127.0.0.1:8002/", "https://127.0.0.1:8001/", "http://localhost:8001/"):
        with pytest.raises(Refused):
            check_address("127.0.0.1", ORIGIN, origin=netpolicy.Origin.of(other))


def test_resolve_keeps_only_allowed_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    """A name with a public and a loopback address: only the public one is handed back to connect
    to; a name with only internal addresses is refused, naming the name and the address."""

    def fake(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        answers = {
            "mixed.test": ["93.184.215.14", "127.0.0.1"],
            "inside.test": ["127.0.0.1", "::1"],
        }[host]
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (a, port) if ":" not in a else (a, port, 0, 0),
            )
            for a in answers
        ]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    strict = netpolicy.STRICT
    assert [r.address for r in netpolicy.resolve("mixed.test", 80, strict)] == [
        ipaddress.ip_address("93.184.215.14")
    ]
    with pytest.raises(Refused, match=r"inside\.test is 127\.0\.0\.1, 127\.0\.0\.1 is a loopback"):
        netpolicy.resolve("inside.test", 80, strict)


def test_check_url_is_what_a_browser_interceptor_calls() -> None:
    """The policy as a plain function (for a headless browser's request interceptor): a typed
    error with the URL and the reason."""
    with pytest.raises(Refused) as caught:
        check_url("http://[::1]:9/", ORIGIN)
    assert caught.value.url == "http://[::1]:9/"
    assert "loopback" in caught.value.reason
