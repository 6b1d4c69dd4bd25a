"""TEMPORARY: the fetch policy of issue 13 (``feedbot/netpolicy.py``, ``feedbot/transport.py``), copied
from its branch so that the headless browser and the preview page obey exactly those rules before it
lands. When it lands this package is deleted and the one import in :mod:`feedbot.browser` (and
:mod:`feedbot.preview`) becomes ``from . import netpolicy, transport``."""
