"""The fetch policy: where a page fetched for a source may lead. One rule, in this one place.

A page reached from the network is data, never a command. Its links, its redirects and its host's
robots.txt redirects lead only to ``http`` or ``https`` URLs whose address is public: never to a local
file, and never to a loopback, private, link-local, multicast, unspecified or reserved address
(IPv4 and IPv6, whatever the spelling: ``127.1``, ``2130706433``, ``0x7f.0.0.1``, ``0177.0.0.1``,
``[::ffff:127.0.0.1]``, ``[::1]``, ``0.0.0.0``, ``localhost``...). Two exceptions, both named by the
user, never by a page:

- the very origin (scheme, host, port) of the source's configured URL — a source the config points
  at ``http://127.0.0.1:8080/`` may be read, and may link to other pages there, but not to port 22;
- the networks of ``[feedbot] allow_networks`` (such as ``["10.0.0.0/8"]``).

Local files (``file://`` or a path) are read only where the config names them: the source's own URL,
and, for a local index, the files in the index's own directory (or below it) that it links to —
never with a query string (a file has none: ``secret.html?/digest/2024-01-01.html`` would match a
``link_pattern`` and open ``secret.html``).

Addresses are judged after DNS resolution, at connect time (:mod:`feedbot.transport` does that for
requests, so DNS rebinding cannot slip a name past the check). Anything else that fetches for a
source — a headless browser's request interceptor, a preview page — calls the same functions:

- :func:`check_url` — the URL's scheme, local file, and literal host (an address in any spelling,
  ``localhost``); raises :class:`Refused`.
- :func:`check_address` — one resolved address, for a connection to ``origin``; raises
  :class:`Refused`.
- :func:`resolve` — resolves a host and returns the addresses that may be connected to (raises
  :class:`Refused` when none may); connect only to those.

Owns: the rule and its context (:class:`Context`). Must not: fetch anything or read the clock.
Pure except :func:`resolve` (DNS) and :func:`check_url`'s look at the file system (``realpath``).
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .errors import FeedbotError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

WEB_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}

# Names that mean this machine whatever DNS says (RFC 6761 section 6.3: "localhost." and every name
# under it resolve to loopback), refused before any lookup.
LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")

# IPv6 prefixes that carry an IPv4 address in their last 32 bits and reach it through a translator
# (RFC 6052 NAT64 well-known prefix, RFC 8215 local-use prefix): judged by the IPv4 address they carry.
NAT64_PREFIXES = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))

# Shared address space of carrier-grade NAT (RFC 6598): neither private nor global in ipaddress's
# terms, and never a public web server.
SHARED_SPACE = ipaddress.IPv4Network("100.64.0.0/10")


class Refused(FeedbotError):
    """The fetch policy refuses a URL or an address. ``url`` is what was asked for (or the address),
    ``reason`` says why, in words for the user."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"refused: {reason}")


@dataclass(frozen=True)
class Origin:
    """``scheme://host:port`` of a URL, normalised: lower case, no brackets, the default port filled
    in, an internationalised name in its ASCII (IDNA) form as it goes on the wire."""

    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> Origin | None:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in WEB_SCHEMES or not parts.hostname:
            return None
        try:
            port = parts.port or DEFAULT_PORTS[scheme]
        except ValueError:
            return None
        return cls(scheme, normal_host(parts.hostname), port)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def normal_host(host: str) -> str:
    """A host name or address as the connection layer sees it: lower case, without brackets or a
    final dot, an internationalised name in IDNA form."""
    host = host.strip("[]").rstrip(".").lower()
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


@dataclass(frozen=True)
class Context:
    """What the user named for one source: its configured URL (and so its origin or its local file)
    and the networks ``allow_networks`` opens. :data:`STRICT` is the context of a request made for no
    source: public addresses only."""

    configured_url: str = ""
    origin: Origin | None = None
    local_root: Path | None = None  # directory of a configured local file; its links may stay in it
    allow_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def for_source(cls, url: str, allow_networks: Iterable[IPNetwork] = ()) -> Context:
        root = None
        if urlsplit(url).scheme.lower() == "file":
            path = _file_path(url)
            if path is not None:
                root = Path(os.path.realpath(path)).parent
        return cls(url, Origin.of(url), root, tuple(allow_networks))


STRICT = Context()


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """``["10.0.0.0/8", "fd00::/8", "192.168.1.5"]`` -> networks. Raises ValueError naming the value
    that is not a network (host bits set, as in ``10.0.0.1/8``, are an error too)."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=True))
        except ValueError as exc:
            raise ValueError(
                f"{value!r} is not an IP network such as '10.0.0.0/8': {exc}"
            ) from None
    return tuple(networks)


def address_of(host: str) -> IPAddress | None:
    """The address a host string denotes when it is a literal address in any spelling the C
    resolver accepts (``127.1``, ``2130706433``, ``0x7f000001``, ``0177.0.0.1``, ``[::1]``,
    ``fe80::1%eth0``), or None for a name."""
    host = host.strip().strip("[]").rstrip(".")
    if not host:
        return None
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return None
    if not all(c.isalnum() or c == "." for c in host) or not host[0].isdigit():
        return None  # names: inet_aton would also take "1.2.3.4 anything" (glibc stops at a space)
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries and reaches: IPv4-mapped, 6to4, NAT64."""
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    for prefix in NAT64_PREFIXES:
        if ip in prefix:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def internal_reason(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public address ("a loopback address", ...), or None when it is public.
    An IPv6 address that carries an IPv4 address (mapped, 6to4, NAT64) is judged by both."""
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        reason = internal_reason(embedded)
        if reason is not None:
            return f"{reason} (it carries {embedded})"
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            return None  # ::ffff:a.b.c.d is a.b.c.d itself
    if ip.is_unspecified:
        return "the unspecified address (this machine)"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:
        return "a site-local address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in SHARED_SPACE:
        return "a shared (carrier-grade NAT) address"
    if ip.is_private:
        return "a private address"
    if ip.is_reserved:
        return "a reserved address"
    if not ip.is_global:
        return "not a globally routable address"
    return None


def _allowed_network(ip: IPAddress, context: Context) -> bool:
    embedded = _embedded_ipv4(ip)
    return any(
        candidate in network
        for network in context.allow_networks
        for candidate in (ip, embedded)
        if candidate is not None and candidate.version == network.version
    )


def _advice(context: Context) -> str:
    own = f"the source's own origin ({context.origin}), " if context.origin else ""
    return f"a page may lead only to public addresses, {own}and the networks in allow_networks"


def check_address(ip: IPAddress | str, context: Context, *, origin: Origin | None = None) -> None:
    """Raise :class:`Refused` unless a connection to ``ip`` (a resolved address) is allowed.

    ``origin`` is what the connection is for (the URL's scheme, host and port): when it is the
    source's configured origin, any address is allowed — the user named that host. Otherwise the
    address must be public or in ``allow_networks``."""
    address = ip if not isinstance(ip, str) else ipaddress.ip_address(ip.split("%", 1)[0])
    if origin is not None and origin == context.origin:
        return
    if _allowed_network(address, context):
        return
    reason = internal_reason(address)
    if reason is None:
        return
    where = f"{origin.host} is {address}, " if origin and origin.host != str(address) else ""
    raise Refused(str(address), f"{where}{address} is {reason}; {_advice(context)}")


def check_url(url: str, context: Context) -> None:
    """Raise :class:`Refused` unless ``url`` may be fetched for the source ``context`` describes.

    Checks what the URL itself says: its scheme (``http``/``https``; ``file`` only as the config
    allows it), and its host when that is a literal address (any spelling) or a name of this machine
    (``localhost``). A host *name* is judged again on its resolved addresses at connect time
    (:func:`check_address`, :func:`resolve`): call one of them before connecting."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme == "file":
        _check_file(url, context)
        return
    if scheme not in WEB_SCHEMES:
        shown = f"{scheme}:" if scheme else "a URL without a scheme"
        raise Refused(url, f"{shown} is not fetched (only http and https)")
    origin = Origin.of(url)
    if origin is None:
        raise Refused(url, "the URL has no host or an invalid port")
    if origin == context.origin:
        return
    if origin.host in LOCAL_NAMES or origin.host.endswith(".localhost"):
        raise Refused(url, f"{origin.host} is this machine; {_advice(context)}")
    address = address_of(origin.host)
    if address is not None:
        try:
            check_address(address, context, origin=origin)
        except Refused as exc:
            raise Refused(url, exc.reason) from None


def _file_path(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        return None
    return unquote(parts.path) or None


def _check_file(url: str, context: Context) -> None:
    if url == context.configured_url:
        return
    if context.local_root is None:
        raise Refused(
            url,
            "a page reached from the network may not lead to a local file "
            "(local files are read only where the config names them)",
        )
    parts = urlsplit(url)
    if parts.query:
        raise Refused(url, "a local file link has a query string (files have none)")
    path = _file_path(url)
    if path is None:
        raise Refused(url, f"a file URL on another host ({parts.netloc}) is not read")
    real = Path(os.path.realpath(path))
    if not real.is_relative_to(context.local_root):
        shown = path if str(real) == path else f"{path} (which leads to {real})"
        raise Refused(
            url,
            f"{shown} is outside {context.local_root}, the directory of the configured "
            "index; a local index may lead only to files in its own directory",
        )


@dataclass(frozen=True)
class Resolved:
    """One address a connection may use: its family and socket address as the resolver gave them
    (an IPv6 scope id kept) and the address itself."""

    family: int
    sockaddr: tuple[str, int] | tuple[str, int, int, int]
    address: IPAddress


def resolve(host: str, port: int, context: Context, *, scheme: str = "https") -> list[Resolved]:
    """Resolve ``host`` and return every address a connection to ``scheme://host:port`` may use, in
    the resolver's order. Raises :class:`Refused` when there is none (naming the first refused
    address) and :class:`OSError` (``socket.gaierror``) when the name does not resolve. Connect only
    to the addresses returned: looking the name up again could give another answer (DNS
    rebinding)."""
    origin = Origin(scheme.lower(), normal_host(host), port)
    if origin != context.origin and (
        origin.host in LOCAL_NAMES or origin.host.endswith(".localhost")
    ):
        raise Refused(host, f"{origin.host} is this machine; {_advice(context)}")
    allowed: list[Resolved] = []
    first: Refused | None = None
    for family, _, _, _, sockaddr in socket.getaddrinfo(
        host.strip("[]"), port, type=socket.SOCK_STREAM
    ):
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        try:
            check_address(address, context, origin=origin)
        except Refused as exc:
            first = first or exc
            continue
        entry = Resolved(family, sockaddr, address)  # type: ignore[arg-type]
        if entry not in allowed:
            allowed.append(entry)
    if not allowed and first is not None:
        raise first
    return allowed
