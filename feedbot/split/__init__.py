"""Splitting a page into stories: the split wing, as a pipeline of named stages.

``split_page(text, content_type, options)`` is the one entry point the rest of feedbot uses. The stages,
in order (each a module; only :mod:`~feedbot.split.dom` touches the parse tree):

- :mod:`~feedbot.split.dom`: parse, title and date, furniture out, content area, blocks;
- :mod:`~feedbot.split.pipeline`: boilerplate lines, candidate headline structures and their scores,
  single articles, building the items.

Every threshold and word list is in :mod:`~feedbot.split.rules`.
"""

from __future__ import annotations

from .blocks import collapse
from .pipeline import SplitOptions, split_blocks, split_page
from .text import strip_marker, units

__all__ = ["SplitOptions", "collapse", "split_blocks", "split_page", "strip_marker", "units"]
