"""feedbot: turn digest pages into feeds, one entry per story, with stable ids and tracked updates."""

__version__ = "0.1.0"
