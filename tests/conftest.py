from __future__ import annotations

from collections.abc import Iterator

import pytest

from .batch import Batch, Reference, build_reference, serve_batch
from .helpers import Server, serve


@pytest.fixture
def server() -> Iterator[Server]:
    with serve() as srv:
        yield srv


@pytest.fixture(scope="session")
def batch() -> Iterator[Batch]:
    """The crash and storage-fault tests' batch of pages, served on 127.0.0.1 (tests/batch.py)."""
    with serve_batch() as b:
        yield b


@pytest.fixture(scope="session")
def reference(batch: Batch, tmp_path_factory: pytest.TempPathFactory) -> Reference:
    """Uninterrupted day-1 and day-2 runs of the batch: what a crash or a fault must end up as."""
    return build_reference(batch, tmp_path_factory.mktemp("reference"))
