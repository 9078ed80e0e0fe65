"""Exact dedup key: a 64-bit hash of the normalised text (NFKC, case folded, whitespace collapsed),
so copies that differ only in case, spacing or Unicode width are exact duplicates across sources."""

from __future__ import annotations

import re
import unicodedata

import xxhash

_PUNCT = re.compile(r"[^\w\s]+")
# Seeds keep the exact key, band keys and n-gram hashes in separate hash spaces.
EXACT_SEED = 0x6772697374  # "grist"


def normalize(text: str) -> str:
    """NFKC, case folded, runs of whitespace -> one space, stripped."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return " ".join(text.casefold().split())


# ASCII text: the bytes _PUNCT matches, mapped to spaces by bytes.translate (the runs it would
# replace by one space collapse in the split/join anyway): the same result, faster than the regex.
_ASCII_PUNCT = bytes(32 if _PUNCT.fullmatch(chr(i)) else i for i in range(256))


def shingle_text(norm: str) -> str:
    """The normalised text without punctuation: what shingles and n-grams are cut from."""
    if norm.isascii():
        return " ".join(norm.encode().translate(_ASCII_PUNCT).decode().split())
    return " ".join(_PUNCT.sub(" ", norm).split())


def exact_key(norm: str) -> int:
    return xxhash.xxh64_intdigest(norm.encode("utf-8"), EXACT_SEED)
