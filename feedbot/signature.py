"""Similarity signatures: what lets a page find the stored entries it may be the same story as
without reading the feed.

Owns: the MinHash signature of a normalised body, its LSH band keys, and the estimate of Jaccard
similarity two signatures give. Pure: strings in, bytes and integers out. The store keeps the
signature of every entry and an index of its band keys; a page's items look their band keys up
there, and only the entries that share one are compared exactly (``decide``).

MinHash (Broder 1997) over the same 3-token shingles ``decide`` compares: for two bodies of
Jaccard similarity J, each of the signature's values is equal with probability J. Banding (Indyk &
Motwani; Leskovec, Rajaraman & Ullman, "Mining of Massive Datasets", ch. 3): the signature is cut
into BANDS bands of ROWS values, and two bodies are candidates when one band is equal in full,
with probability 1 - (1 - J^ROWS)^BANDS. The signatures are computed by rensa (Rust, no other
dependency; seeded, so the same body gives the same signature in every process and on every
machine).
"""

from __future__ import annotations

import hashlib
import struct
from array import array
from collections.abc import Sequence

import rensa

# With ROWS = 3 and BANDS = 42 a pair is a candidate with probability 0.94 at J = 0.4 (the lowest
# similarity ``decide`` ever calls the same story under another headline), 0.996 at 0.5 and
# 0.99996 at 0.6; at J = 0.05 (unrelated texts sharing common phrases) 0.005 and at 0.01 0.00004.
# Four rows would miss 13 % of pairs at J = 0.5; two rows make 1 unrelated pair in 10 a candidate
# at J = 0.05. Measured on the labelled pairs (python -m feedbot.eval_pairs): every true pair
# under another headline is a candidate, and none of the 229,216 unrelated pairings is.
ROWS = 3
BANDS = 42
NUM_PERM = ROWS * BANDS
# Fixed forever for a given state: stored signatures are compared with new ones. Changing any of
# these (or rensa's algorithm, RMinHash.ALGORITHM_VERSION) needs a migration that recomputes every
# stored signature.
SEED = 0x5EED
ALGORITHM = f"rensa-rminhash-{rensa.RMinHash.ALGORITHM_VERSION}-p{NUM_PERM}-s{SEED}"
SHINGLE = 3  # tokens per shingle, as decide's exact comparison (identify.shingles)
_FORMAT = f"<{NUM_PERM}I"


def signature(norm_body: str) -> bytes:
    """The MinHash signature of a normalised body: NUM_PERM unsigned 32-bit values, little-endian.
    An empty body has the empty signature (it is similar to nothing)."""
    return signature_of_tokens(norm_body.split(" ") if norm_body else [])


def signature_of_tokens(toks: Sequence[str]) -> bytes:
    """:func:`signature` of the body whose tokens are ``toks``."""
    if not toks:
        return b""
    minhash = rensa.RMinHash(num_perm=NUM_PERM, seed=SEED)
    if len(toks) < SHINGLE:
        minhash.update([" ".join(toks)])
    else:
        # shingles joined in C (map over zip): a comprehension cost twice as much
        grams = zip(*(toks[i:] for i in range(SHINGLE)), strict=False)
        minhash.update(list(map(" ".join, grams)))
    return struct.pack(_FORMAT, *minhash.digest())


def band_keys(feed: str, sig: bytes) -> list[int]:
    """The signature's BANDS band keys, scoped to its feed: signed 64-bit integers (an SQL
    BIGINT), equal for two signatures when one band of values is equal in full."""
    if not sig:
        return []
    prefix = feed.encode("utf-8") + b"\x00"
    width = 4 * ROWS
    return [
        int.from_bytes(
            hashlib.blake2b(
                prefix + bytes((band,)) + sig[band * width : (band + 1) * width], digest_size=8
            ).digest(),
            "little",
            signed=True,
        )
        for band in range(BANDS)
    ]


def estimate(a: bytes, b: bytes) -> float:
    """The Jaccard similarity two signatures estimate: the share of their values that are equal
    (standard error at most 0.045 with 126 values). 0.0 when either is empty."""
    if not a or not b or len(a) != len(b):
        return 0.0
    x, y = array("I"), array("I")
    x.frombytes(a)
    y.frombytes(b)
    return sum(p == q for p, q in zip(x, y, strict=True)) / len(x)
