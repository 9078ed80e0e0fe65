"""Newline and control-character normalisation, applied by the read stage to every document.

CRLF and lone CR become LF; C0 control characters other than TAB and LF (NUL, the DOS end-of-file
mark 0x1a, form feeds, ANSI escapes' ESC, ...) are removed. The read stage counts the documents
each rule changed (`normalised_newlines`, `removed_control_chars`).
"""

from __future__ import annotations

import re

# C0 minus \t (0x09) and \n (0x0a); \r is handled first, as a newline.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f]+")


def normalize_text(text: str) -> tuple[str, bool, bool]:
    """(text, newlines changed, control characters removed)."""
    newlines = "\r" in text
    if newlines:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    # search first: most texts have none, and a search is cheaper than a sub that builds a copy
    controls = _CONTROLS.search(text) is not None
    if controls:
        text = _CONTROLS.sub("", text)
    return text, newlines, controls


# Lone UTF-16 surrogates: valid in a Python str (json.loads("\"\\ud800\"")), unencodable as UTF-8,
# so Arrow and every writer raise on them. Paired escapes are already joined by the JSON decoder.
_SURROGATES = re.compile(r"[\ud800-\udfff]")


def scrub_surrogates(text: str) -> tuple[str, bool]:
    """(text with each lone surrogate replaced by U+FFFD, whether any was)."""
    if _SURROGATES.search(text) is None:
        return text, False
    return _SURROGATES.sub("\ufffd", text), True


def scrub_value(value):
    """A reader's meta value with every string in it scrubbed of surrogates (dicts and lists walked)."""
    if isinstance(value, str):
        return scrub_surrogates(value)[0]
    if isinstance(value, dict):
        return {scrub_value(k): scrub_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_value(v) for v in value]
    return value
