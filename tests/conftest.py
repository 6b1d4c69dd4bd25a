from __future__ import annotations

from collections.abc import Iterator

import pytest

from .helpers import Server, serve


@pytest.fixture
def server() -> Iterator[Server]:
    with serve() as srv:
        yield srv
