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
