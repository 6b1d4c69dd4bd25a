"""Turning page bytes into text: BOM, per-source override, HTTP header, <meta>, then detection.

Owns: the choice of codec and the decoding. Must not: fetch or parse HTML beyond the <meta> sniff.
GB2312 and GBK are read as their superset GB18030, Big5 as Big5-HKSCS, Shift_JIS as CP932 (the
Windows superset real pages use), ISO-8859-1 / ASCII as windows-1252 (as browsers do).
"""

from __future__ import annotations

import codecs
import re

_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "gb18030": "gb18030",
    "big5": "big5hkscs",
    "big5hkscs": "big5hkscs",
    "cp950": "big5hkscs",
    "shift_jis": "cp932",
    "cp932": "cp932",
    "euc_jp": "euc_jp",
    "latin_1": "cp1252",
    "ascii": "cp1252",
    "iso8859_1": "cp1252",
}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_META_RE = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def normalise_codec(label: str | None) -> str | None:
    """Map a charset label to the Python codec we decode with, or None if unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    key = name.replace("-", "_")
    return _SUPERSETS.get(key, name)


def sniff_meta(data: bytes) -> str | None:
    """The charset declared by a <meta> tag in the first 4 KB, if any."""
    match = _META_RE.search(data[:4096])
    return match.group(1).decode("ascii", "replace") if match else None


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def decode(
    data: bytes,
    *,
    header_charset: str | None = None,
    override: str | None = None,
    html: bool = True,
) -> tuple[str, str]:
    """Decode page bytes. Returns (text, codec name).

    Order: BOM; the per-source override; then bytes that are valid UTF-8 with non-ASCII content are
    UTF-8 whatever the header or <meta> claim (a wrong label is common, a GBK page that happens to be
    valid UTF-8 is not); then the header charset, the <meta> charset, and detection, each only if it
    decodes the bytes without error. Detection is the last resort; a lossy decode is never silent.
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(codec, errors="replace"), codec
    forced = normalise_codec(override)
    if forced:
        return data.decode(forced, errors="replace"), forced
    if not data:
        return "", "utf-8"
    as_utf8 = _strict(data, "utf-8")
    if as_utf8 is not None and not data.isascii():
        return as_utf8, "utf-8"
    for label in (header_charset, sniff_meta(data) if html else None):
        declared = normalise_codec(label)
        if declared:
            text = _strict(data, declared)
            if text is not None:
                return text, declared
    if as_utf8 is not None:
        return as_utf8, "utf-8"
    import charset_normalizer  # only for pages that do not say their charset

    best = charset_normalizer.from_bytes(data).best()
    if best is not None and best.encoding:
        codec = normalise_codec(best.encoding) or best.encoding
        text = _strict(data, codec)
        if text is not None:
            return text, codec
        return str(best), best.encoding
    return data.decode("utf-8", errors="replace"), "utf-8"
