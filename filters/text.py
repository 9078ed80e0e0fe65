"""Script-aware text units shared by the rules: words, lines, display width.

Chinese and Japanese are written without spaces, so a whitespace split makes a whole paragraph one
"word". Here every Han / kana character is a word of its own (Korean uses spaces and is split
normally). That is crude next to a real segmenter but keeps counts comparable: a 300-character
Chinese article has ~300 words, and a page of 4-character link labels still has very short lines.
"""

from __future__ import annotations

import re
import unicodedata
from itertools import islice

# Han (incl. extension A, compatibility), Hiragana, Katakana.
CJK_RANGES = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_CHAR = re.compile(f"[{CJK_RANGES}]")
_TOKEN = re.compile(f"[{CJK_RANGES}]|[^\\s{CJK_RANGES}]+")
_KANA = re.compile("[\u3040-\u30ff]")


def char_class(pred) -> str:
    """The code points of the Basic Multilingual Plane for which `pred(char)` holds, as the ranges of
    a regex character class (a 10 ms scan, once per process). BMP only: sre matches such a class by
    a bitmap, and one that reaches past U+FFFF by walking its ranges (measured: `words` 3x slower).
    Text holding characters past U+FFFF (emoji, historic scripts) takes the exact slow paths."""
    out, start = [], None
    for cp in range(0x10001):
        hit = cp < 0x10000 and pred(chr(cp))
        if hit and start is None:
            start = cp
        elif not hit and start is not None:
            out.append(re.escape(chr(start)) if cp - 1 == start else f"{re.escape(chr(start))}-{re.escape(chr(cp - 1))}")
            start = None
    return "".join(out)


def is_bmp(text: str) -> bool:
    """No character past U+FFFF: the classes below cover every character of the text. (UTF-16
    spends 2 bytes on such a character and 4 on any other: 30x faster than max(text).)"""
    return text.isascii() or len(text.encode("utf-16-le", "surrogatepass")) == 2 * len(text)


# Unicode punctuation (categories P*), whitespace (`str.isspace`, which is what `\s` matches: a class
# holding `\s` is walked too) and East Asian Wide / Fullwidth characters, as classes of BMP ranges.
_PUNCT = char_class(lambda c: unicodedata.category(c)[0] == "P")
_PUNCT_NOT_CJK = char_class(lambda c: unicodedata.category(c)[0] == "P" and not _CJK_CHAR.match(c))
_SPACE = char_class(str.isspace)
_ALPHA = char_class(str.isalpha)
# A CJK character that is not punctuation (the look-behind after the class: sre skips ahead by a
# pattern's first class only when nothing comes before it).
_CJK_WORD = re.compile(f"[{CJK_RANGES}](?<![{_PUNCT}])")
_WIDE = re.compile(f"[{char_class(lambda c: unicodedata.east_asian_width(c) in 'WF')}]")
# `words` in one regex: a CJK character that is not punctuation, or a run of other non-space
# characters (from its start: the look-behind) holding something other than punctuation. The same
# words as `_TOKEN` less the tokens `_is_punct` rejects, without a Python call per token.
_WORD = re.compile(f"{_CJK_WORD.pattern}|(?<![^{_SPACE}{CJK_RANGES}])[{_PUNCT_NOT_CJK}]*+"
                   f"[^{_SPACE}{CJK_RANGES}{_PUNCT}][^{_SPACE}{CJK_RANGES}]*+")
# The words without a letter: a CJK character that is no letter either, or a run whose characters
# after the punctuation it starts with are no letters up to its end (the look-ahead).
_NOALPHA_WORD = re.compile(f"[{CJK_RANGES}](?<![{_PUNCT}])(?<![{_ALPHA}])|(?<![^{_SPACE}{CJK_RANGES}])"
                           f"[{_PUNCT_NOT_CJK}]*+[^{_SPACE}{CJK_RANGES}{_PUNCT}{_ALPHA}][^{_SPACE}{CJK_RANGES}{_ALPHA}]*+"
                           f"(?![^{_SPACE}{CJK_RANGES}])")

# Sentence-final marks, ASCII and full-width, and the closing quotes that may follow them.
TERMINAL_PUNCT = (".", "!", "?", '"', "'", "”", "’", "…", "。", "！", "？", "」", "』", "；")
_SENTENCE_END = re.compile(r"[。！？]+|[.!?]+(?=[\s\"'”’)\]」』]|$)")


def _is_punct(token: str) -> bool:
    return all(unicodedata.category(c)[0] == "P" for c in token)


def words(text: str) -> list[str]:
    """Words of a text: CJK characters one by one, other runs of non-space; tokens made only of
    punctuation (',', '。”', '--') are not words. Symbols ('|', '»') are: they are non-alphabetic
    words for Gopher's alpha-ratio rule."""
    if is_bmp(text):
        return _WORD.findall(text)
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
    if is_bmp(line):
        return len(line) + len(_WIDE.findall(line))
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def sentence_count(text: str) -> int:
    return len(_SENTENCE_END.findall(text))


def has_sentences(text: str, n: int) -> bool:
    """sentence_count(text) >= n, scanning only as far as the n-th sentence end."""
    return n <= 0 or next(islice(_SENTENCE_END.finditer(text), n - 1, None), None) is not None


def ends_sentence(line: str) -> bool:
    return line.rstrip().endswith(TERMINAL_PUNCT)


def nonempty_lines(text: str) -> list[str]:
    return list(filter(None, map(str.strip, text.split("\n"))))


def cjk_word_count(text: str) -> int:
    """How many of `words(text)` are CJK characters (each CJK character that is not punctuation is one)."""
    if text.isascii():
        return 0
    if is_bmp(text):
        return len(_CJK_WORD.findall(text))
    return sum(map(is_cjk_word, words(text)))


def alpha_word_count(ws: list[str], text: str) -> int:
    """How many of `ws`, the `words(text)`, hold a letter (`str.isalpha`)."""
    if is_bmp(text):
        return len(ws) - len(_NOALPHA_WORD.findall(text))
    return sum(any(ch.isalpha() for ch in w) for w in ws)
