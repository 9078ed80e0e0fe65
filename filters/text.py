"""Script-aware text units shared by the rules: words, lines, display width.

Chinese and Japanese are written without spaces, so a whitespace split makes a whole paragraph one
"word". Here every Han / kana character is a word of its own (Korean uses spaces and is split
normally). That is crude next to a real segmenter but keeps counts comparable: a 300-character
Chinese article has ~300 words, and a page of 4-character link labels still has very short lines.
"""

from __future__ import annotations

import re
import unicodedata

# Han (incl. extension A, compatibility), Hiragana, Katakana.
CJK_RANGES = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_CHAR = re.compile(f"[{CJK_RANGES}]")
_TOKEN = re.compile(f"[{CJK_RANGES}]|[^\\s{CJK_RANGES}]+")
_KANA = re.compile("[\u3040-\u30ff]")

# Sentence-final marks, ASCII and full-width, and the closing quotes that may follow them.
TERMINAL_PUNCT = (".", "!", "?", '"', "'", "”", "’", "…", "。", "！", "？", "」", "』", "；")
_SENTENCE_END = re.compile(r"[。！？]+|[.!?]+(?=[\s\"'”’)\]」』]|$)")


def _is_punct(token: str) -> bool:
    return all(unicodedata.category(c)[0] == "P" for c in token)


def words(text: str) -> list[str]:
    """Words of a text: CJK characters one by one, other runs of non-space; tokens made only of
    punctuation (',', '。”', '--') are not words. Symbols ('|', '»') are: they are non-alphabetic
    words for Gopher's alpha-ratio rule."""
    return [t for t in _TOKEN.findall(text) if not _is_punct(t)]


def cjk_count(text: str) -> int:
    return 0 if text.isascii() else len(_CJK_CHAR.findall(text))


def is_cjk_word(word: str) -> bool:
    return len(word) == 1 and _CJK_CHAR.match(word) is not None


def script_language(text: str) -> str | None:
    """A guess from the script alone, for rules that need a language when lid did not run."""
    if cjk_count(text) * 3 < len(text.strip()) or not text.strip():
        return None
    return "ja" if _KANA.search(text) else "zh"


def display_width(line: str) -> int:
    """Characters, with wide (CJK) ones counting 2: the unit FineWeb's short-line rule assumes."""
    if line.isascii():
        return len(line)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def sentence_count(text: str) -> int:
    return len(_SENTENCE_END.findall(text))


def ends_sentence(line: str) -> bool:
    return line.rstrip().endswith(TERMINAL_PUNCT)


def nonempty_lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.split("\n") if ln.strip()]
