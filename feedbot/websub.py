"""WebSub (W3C Recommendation, 2018) publishing: telling a feed's hub that the feed changed.

Owns: the publish ping (``POST hub.mode=publish&hub.url=FEED``). A failed ping is logged as a warning
and never fails a run: the feed file is already written, and the hub's subscribers will still get the
change at their next poll. Must not: render or write feeds.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import requests

log = logging.getLogger("feedbot")


def publish(
    hub: str,
    topics: Sequence[str],
    *,
    user_agent: str,
    timeout: float = 10.0,
    session: requests.Session | None = None,
) -> bool:
    """Ping ``hub`` for each changed feed URL in ``topics`` (one request; hubs accept ``hub.url``
    repeated). Returns True when the hub answered 2xx."""
    if not topics:
        return True
    data = [("hub.mode", "publish")] + [("hub.url", topic) for topic in topics]
    http = session or requests.Session()
    try:
        response = http.post(
            hub,
            data=data,
            headers={"User-Agent": user_agent},
            timeout=timeout,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        log.warning("websub: hub %s: publish ping for %s failed: %s", hub, ", ".join(topics), exc)
        return False
    finally:
        if session is None:
            http.close()
    if not 200 <= response.status_code < 300:
        log.warning(
            "websub: hub %s: publish ping for %s answered HTTP %d",
            hub,
            ", ".join(topics),
            response.status_code,
        )
        return False
    log.info("websub: hub %s notified of %s", hub, ", ".join(topics))
    return True
