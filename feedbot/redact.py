"""What a public output may show of a URL: never its user-info, never a secret query parameter.

A configured URL may carry credentials (``https://user:password@example.org/``,
``...?token=abc``): feedbot needs them to fetch the page, and nobody else may see them. Every public
output — feeds, OPML, the server's index page and ``/healthz``, the state's recorded errors (shown by
``status``), log lines — goes through :func:`public_url` (one URL) or :func:`scrub` (any text that
may hold URLs: an error message, a log line). Fetching uses the URL as configured.

Owns: the list of secret parameter names (:data:`SECRET_PARAMS`, replaced by ``[feedbot]
secret_params``) and the two functions. Pure: no I/O.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Iterable
from functools import lru_cache
from urllib.parse import unquote_plus, urlsplit, urlunsplit

# Query parameters that carry credentials by the names APIs and feed services give them; a
# parameter whose lower-cased name is one of these is dropped from every public URL, whatever its
# value. (A config names its own with secret_params.)
SECRET_PARAMS: tuple[str, ...] = (
    "access_token",
    "api_key",
    "apikey",
    "auth",
    "auth_token",
    "client_secret",
    "key",
    "passwd",
    "password",
    "private_token",
    "secret",
    "session",
    "sessionid",
    "sid",
    "sig",
    "signature",
    "token",
)

# A URL inside free text: a scheme, "://" and everything up to white space or a quote. Punctuation
# that ends a sentence or a message part ("...: HTTP 404", "(see http://x/).") is given back.
_URL_IN_TEXT = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^\s\"'<>]+")
_TRAILING = ".,:;!?)]}"


def _names(secret_params: Iterable[str]) -> frozenset[str]:
    if isinstance(secret_params, tuple):
        return _tuple_names(secret_params)
    return frozenset(name.lower() for name in secret_params)


@lru_cache(maxsize=16)
def _tuple_names(secret_params: tuple[str, ...]) -> frozenset[str]:
    """:func:`_names` of a tuple (the configured list), worked out once: feeds show thousands of
    URLs per run."""
    return frozenset(name.lower() for name in secret_params)


def public_url(url: str, secret_params: Collection[str] = SECRET_PARAMS) -> str:
    """``url`` without user-info and without the query parameters named in ``secret_params``
    (compared without case, percent-decoded); everything else byte for byte as it was. A URL that
    does not parse is returned with anything that looks like user-info cut out."""
    if "@" not in url and "?" not in url:
        return url  # no user-info, no query: nothing to hide (the common case, without parsing)
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        return re.sub(r"//[^/@\s]*@", "//", url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = parts.query
    names = _names(secret_params)
    if query and names:
        pieces = query.split("&")
        kept = [p for p in pieces if unquote_plus(p.split("=", 1)[0]).lower() not in names]
        if len(kept) != len(pieces):
            query = "&".join(kept)
    if netloc == parts.netloc and query == parts.query:
        return url  # nothing to hide: the very same string
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def scrub(text: str, secret_params: Collection[str] = SECRET_PARAMS) -> str:
    """``text`` with every URL in it made public (:func:`public_url`)."""

    def one(match: re.Match[str]) -> str:
        found = match.group(0)
        tail = ""
        while found and found[-1] in _TRAILING:
            found, tail = found[:-1], found[-1] + tail
        return public_url(found, secret_params) + tail

    return _URL_IN_TEXT.sub(one, text)


class ScrubFilter(logging.Filter):
    """A logging filter that scrubs each record's message (for the handlers of public logs)."""

    def __init__(self, secret_params: Collection[str] = SECRET_PARAMS) -> None:
        super().__init__()
        self.secret_params = tuple(secret_params)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = scrub(message, self.secret_params)
        if clean != message:
            record.msg, record.args = clean, None
        return True
