"""Dates a page writes, read in the page's own time zone.

A page that says "2026-06-18 08:12" without a zone means 08:12 where it is published: a Beijing
page's 08:12 is 00:12 UTC, not 08:12 UTC. Owns: which zone a page's zone-less dates are in
(:func:`page_zone`: the source's ``timezone``; else an explicit offset in the page's own markup;
else the zone its language tag pins, from :data:`ZONE_BY_REGION`, :data:`ZONE_BY_SCRIPT` and
:data:`ZONE_BY_LANGUAGE`; else the one the script of its text pins, :class:`ScriptRules`; else
UTC), reading a wall-clock time in a zone (:func:`in_zone`, with
the DST rule stated once), and checking a zone name (:func:`zone_named`). The split wing finds the
values in the page (a date, the ``<html lang>``, the date values that may carry an offset); this
module only decides. Pure: no clock, no I/O (the zone database is read through ``zoneinfo``, from
the system or the ``tzdata`` package).
"""

from __future__ import annotations

import difflib
import re
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import cache

# A region subtag pins a zone when (nearly) everyone in the country keeps one clock. Countries
# spread over several zones (US, CA, MX, BR, RU, AU, ID, KZ, CD, MN, ...) are left out: a page
# from there gets no zone from its language, and its zone-less dates stay UTC.
ZONE_BY_REGION: dict[str, str] = {
    # East and South-East Asia: one zone per country (China is one zone by law)
    "CN": "Asia/Shanghai",
    "TW": "Asia/Taipei",
    "HK": "Asia/Hong_Kong",
    "MO": "Asia/Macau",
    "JP": "Asia/Tokyo",
    "KR": "Asia/Seoul",
    "KP": "Asia/Pyongyang",
    "SG": "Asia/Singapore",
    "MY": "Asia/Kuala_Lumpur",  # Sabah and Sarawak keep the same UTC+8
    "TH": "Asia/Bangkok",
    "VN": "Asia/Ho_Chi_Minh",
    "PH": "Asia/Manila",
    "KH": "Asia/Phnom_Penh",
    "MM": "Asia/Yangon",
    # South and West Asia
    "IN": "Asia/Kolkata",
    "PK": "Asia/Karachi",
    "BD": "Asia/Dhaka",
    "NP": "Asia/Kathmandu",
    "LK": "Asia/Colombo",
    "AF": "Asia/Kabul",
    "IR": "Asia/Tehran",
    "IL": "Asia/Jerusalem",
    "TR": "Europe/Istanbul",
    "SA": "Asia/Riyadh",
    "AE": "Asia/Dubai",
    "QA": "Asia/Qatar",
    "IQ": "Asia/Baghdad",
    "JO": "Asia/Amman",
    "LB": "Asia/Beirut",
    # Africa (single-zone countries with large web presences)
    "EG": "Africa/Cairo",
    "MA": "Africa/Casablanca",
    "DZ": "Africa/Algiers",
    "TN": "Africa/Tunis",
    "NG": "Africa/Lagos",
    "KE": "Africa/Nairobi",
    "ET": "Africa/Addis_Ababa",
    "ZA": "Africa/Johannesburg",
    # Europe (the Canaries, an hour behind Madrid, and the Azores, behind Lisbon, hold ~5 % of
    # their countries' people: Madrid and Lisbon are right for the rest)
    "GB": "Europe/London",
    "IE": "Europe/Dublin",
    "FR": "Europe/Paris",
    "DE": "Europe/Berlin",
    "AT": "Europe/Vienna",
    "CH": "Europe/Zurich",
    "IT": "Europe/Rome",
    "ES": "Europe/Madrid",
    "PT": "Europe/Lisbon",
    "NL": "Europe/Amsterdam",
    "BE": "Europe/Brussels",
    "LU": "Europe/Luxembourg",
    "DK": "Europe/Copenhagen",
    "SE": "Europe/Stockholm",
    "NO": "Europe/Oslo",
    "FI": "Europe/Helsinki",
    "IS": "Atlantic/Reykjavik",
    "PL": "Europe/Warsaw",
    "CZ": "Europe/Prague",
    "SK": "Europe/Bratislava",
    "HU": "Europe/Budapest",
    "SI": "Europe/Ljubljana",
    "HR": "Europe/Zagreb",
    "RS": "Europe/Belgrade",
    "RO": "Europe/Bucharest",
    "BG": "Europe/Sofia",
    "GR": "Europe/Athens",
    "CY": "Asia/Nicosia",
    "UA": "Europe/Kyiv",
    "BY": "Europe/Minsk",
    "LT": "Europe/Vilnius",
    "LV": "Europe/Riga",
    "EE": "Europe/Tallinn",
    # the Americas and Oceania: only the single-zone countries
    "AR": "America/Argentina/Buenos_Aires",
    "CO": "America/Bogota",
    "PE": "America/Lima",
    "VE": "America/Caracas",
    "UY": "America/Montevideo",
    "CU": "America/Havana",
    "NZ": "Pacific/Auckland",  # the Chatham Islands hold 600 people
}
# A script subtag pins a zone where the language alone does not say which of its places writes it.
ZONE_BY_SCRIPT: dict[tuple[str, str], str] = {
    (
        "zh",
        "Hans",
    ): "Asia/Shanghai",  # Simplified: the mainland (Singapore and Malaysia: also UTC+8)
    ("zh", "Hant"): "Asia/Taipei",  # Traditional: Taiwan, Hong Kong, Macau, all UTC+8 without DST
}
# A language alone pins a zone when nearly all of its writers keep one clock (or clocks that agree:
# every Chinese-speaking place is UTC+8 without DST; German is written in DE, AT, CH, LI and LU,
# which all keep Central European Time with the EU's summer time). Languages spread over many
# zones — en, es, fr, pt, ar, ru, id, ms-vs-id, bn (Bangladesh +6, India +5:30), ... — are left out:
# without a region that pins one, their pages' zone-less dates stay UTC.
ZONE_BY_LANGUAGE: dict[str, str] = {
    "zh": "Asia/Shanghai",
    "yue": "Asia/Hong_Kong",  # Cantonese: Hong Kong, Macau, Guangdong, all UTC+8
    "ja": "Asia/Tokyo",
    "ko": "Asia/Seoul",
    "th": "Asia/Bangkok",
    "vi": "Asia/Ho_Chi_Minh",
    "km": "Asia/Phnom_Penh",
    "my": "Asia/Yangon",
    "he": "Asia/Jerusalem",
    "iw": "Asia/Jerusalem",  # the old code for Hebrew, still sent by some servers
    "fa": "Asia/Tehran",  # Afghanistan's Dari pages are tagged fa-AF (the region pins Kabul)
    "tr": "Europe/Istanbul",
    "de": "Europe/Berlin",
    "it": "Europe/Rome",  # Italy, San Marino, Vatican, Ticino: all CET
    "nl": "Europe/Amsterdam",  # the Netherlands and Flanders: both CET
    "da": "Europe/Copenhagen",
    "sv": "Europe/Stockholm",  # Finland's Swedish speakers, an hour east, are ~5 %
    "nb": "Europe/Oslo",
    "nn": "Europe/Oslo",
    "no": "Europe/Oslo",
    "fi": "Europe/Helsinki",
    "is": "Atlantic/Reykjavik",
    "pl": "Europe/Warsaw",
    "cs": "Europe/Prague",
    "sk": "Europe/Bratislava",
    "hu": "Europe/Budapest",
    "sl": "Europe/Ljubljana",
    "hr": "Europe/Zagreb",
    "sr": "Europe/Belgrade",
    "ro": "Europe/Bucharest",
    "bg": "Europe/Sofia",
    "el": "Europe/Athens",  # Greece and Cyprus keep the same EET with EU summer time
    "uk": "Europe/Kyiv",
    "be": "Europe/Minsk",
    "lt": "Europe/Vilnius",
    "lv": "Europe/Riga",
    "et": "Europe/Tallinn",
}
# The script of the page's text, when no tag pins a zone (Markdown newsletters carry no language
# tag; many Chinese sites' templates say lang="en"). Han characters without kana are Chinese, and
# every place that writes Chinese keeps UTC+8 without summer time (the mainland, Taiwan, Hong Kong,
# Macau, Singapore, Malaysia): the offset is right whichever it is. These ranges tell scripts apart
# (feedbot.text's CJK range lumps them together for tokenising).
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3041-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")


@dataclass(frozen=True)
class ScriptRules:
    """When the text's script says where the page is written (each number with its reason)."""

    sample: int = 4000  # characters looked at: the title and the first blocks say it
    written_in: float = 0.5  # CJK characters among the letters: the page is in them, not quoting
    kana: float = 0.1  # kana among the CJK characters: Japanese (a third to a half of its prose is
    # kana; Chinese has none, a Chinese page quoting a Japanese name has a trace)
    chinese: str = "+08:00"
    japanese: str = "Asia/Tokyo"
    korean: str = "Asia/Seoul"


SCRIPT = ScriptRules()


def zone_for_script(text: str) -> tuple[tzinfo, str] | None:
    """The zone the script of ``text`` pins (Chinese: UTC+8; Japanese: Tokyo; Korean: Seoul),
    with its reason; None for any other script, or a text that only quotes CJK."""
    sample = text[: SCRIPT.sample]
    letters = sum(1 for c in sample if c.isalpha())
    han, kana, hangul = (len(r.findall(sample)) for r in (_HAN, _KANA, _HANGUL))
    cjk = han + kana + hangul
    if not letters or cjk < SCRIPT.written_in * letters:
        return None
    if hangul > han + kana:
        return zone_named(SCRIPT.korean), "the page is written in Hangul"
    if kana >= SCRIPT.kana * cjk:
        return zone_named(SCRIPT.japanese), "the page is written in Japanese (kana)"
    return timezone(
        timedelta(hours=8)
    ), "the page is written in Chinese (every Chinese-writing place is UTC+8)"


# an explicit offset on a date value: "…T08:12:00+08:00", "… 08:12 +0800", "…T00:12Z"
_OFFSET = re.compile(
    r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?[ ]?(Z|[+-]\d\d(?::?\d\d)?)(?![\d:])"
)
_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")


def zone_named(name: str) -> zoneinfo.ZoneInfo:
    """The IANA zone ``name`` ("Asia/Shanghai"); ValueError saying what is wrong, with the
    nearest names when it is a misspelling."""
    try:
        return _zone(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        pass
    names = _zone_names()
    folded = [n for n in names if n.lower() == name.strip().lower()]
    close = folded or difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
    raise ValueError(f"{name!r} is not an IANA time zone name such as 'Asia/Shanghai'{hint}")


@cache
def _zone(name: str) -> zoneinfo.ZoneInfo:
    if not name or name != name.strip():
        raise ValueError(name)
    return zoneinfo.ZoneInfo(name)


@cache
def _zone_names() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def zone_for_language(tag: str | None) -> tuple[str, str] | None:
    """The zone a language tag pins (BCP 47: ``zh-CN``, ``zh-Hant-TW``, ``ja``; ``zh_CN`` too),
    with the part of the tag that pinned it; None when it pins none. A region decides alone (one
    spread over several zones pins none, whatever the language: ``de-US`` is not Berlin); without
    one, the script, then the language."""
    if not tag or not _TAG.fullmatch(tag.strip()):
        return None
    parts = re.split(r"[-_]", tag.strip())
    language = parts[0].lower()
    script = next((p.title() for p in parts[1:] if len(p) == 4 and p.isalpha()), None)
    region = next((p.upper() for p in parts[1:] if len(p) == 2 and p.isalpha()), None)
    if region:
        return (ZONE_BY_REGION[region], f"region {region}") if region in ZONE_BY_REGION else None
    if script and (language, script) in ZONE_BY_SCRIPT:
        return ZONE_BY_SCRIPT[(language, script)], f"script {script}"
    if language in ZONE_BY_LANGUAGE:
        return ZONE_BY_LANGUAGE[language], f"language {language}"
    return None


def explicit_offset(values: Iterable[str]) -> timezone | None:
    """The first non-zero UTC offset that a date value of the page states (its ``<meta>`` dates,
    ``<time datetime>``, JSON-LD), as a fixed zone; None when none states one. A zero offset
    (``Z``, ``+00:00``) is no evidence: many sites write every machine date in UTC whatever their
    own zone, while a non-zero offset is the site's own clock."""
    for value in values:
        for match in _OFFSET.finditer(value):
            mark = match.group(1)
            if mark == "Z":
                continue
            digits = mark[1:].replace(":", "")
            minutes = int(digits[:2]) * 60 + int(digits[2:4] or 0)
            if minutes and minutes < 18 * 60:
                sign = -1 if mark[0] == "-" else 1
                return timezone(timedelta(minutes=sign * minutes))
    return None


@dataclass(frozen=True)
class PageZone:
    """The zone a page's zone-less dates are read in, and why (``feedbot preview`` shows it)."""

    zone: tzinfo
    reason: str


UTC_ZONE = PageZone(
    UTC, "UTC: the page states no zone, and neither its language nor script pins one"
)


def page_zone(
    *,
    configured: str | None = None,
    dated: Iterable[str] = (),
    lang: str | None = None,
    content_language: str | None = None,
    text: str = "",
) -> PageZone:
    """The zone for a page's zone-less dates: the source's ``timezone``; else an explicit offset in
    the page's markup (``dated``: the date values of its ``<meta>``, ``<time>`` and JSON-LD); else
    the zone its ``<html lang>`` pins; else the one its ``Content-Language`` header pins (the
    first language listed); else the one the script of its ``text`` pins; else UTC."""
    if configured:
        return PageZone(
            zone_named(configured), f'{configured}: timezone = "{configured}" in the config'
        )
    offset = explicit_offset(dated)
    if offset is not None:
        return PageZone(offset, f"{offset}: the offset the page's own dates state")
    for tag, where in (
        (lang, "<html lang>"),
        (_first_language(content_language), "Content-Language"),
    ):
        pinned = zone_for_language(tag)
        if pinned is not None:
            name, why = pinned
            return PageZone(zone_named(name), f"{name}: the page's {where} {tag} ({why})")
    written = zone_for_script(text)
    if written is not None:
        return PageZone(written[0], f"{written[0]}: {written[1]}")
    return UTC_ZONE


def _first_language(header: str | None) -> str | None:
    if not header:
        return None
    return header.split(",")[0].split(";")[0].strip() or None


def in_zone(value: datetime, zone: tzinfo) -> datetime:
    """``value`` as an aware UTC time: one that states its offset keeps it; a zone-less one is the
    wall-clock time in ``zone``. Where summer time makes a wall-clock time ambiguous, the first
    reading is taken (``fold=0``): in the hour repeated when clocks go back, the earlier instant
    (Berlin 2024-10-27 02:30 is 00:30 UTC, not 01:30); in the hour skipped when clocks go forward,
    the offset from before the change (Berlin 2024-03-31 02:30 is 01:30 UTC, the instant a clock
    left unchanged would show) — so every such time has one reading, the same on every run."""
    if value.tzinfo is not None and value.utcoffset() is not None:
        return value.astimezone(UTC)
    return value.replace(tzinfo=zone, fold=0).astimezone(UTC)


def page_time(value: datetime | None, zone: PageZone) -> datetime | None:
    """A date found on a page, read in the page's zone (None stays None)."""
    return None if value is None else in_zone(value, zone.zone)
