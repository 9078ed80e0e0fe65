"""Small helpers shared by the page sources: a file-safe name and a rough page language."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

_HTML_LANG = re.compile(rb"<html\b[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3})", re.I)
_TAG = re.compile(r"<script\b.*?</script>|<style\b.*?</style>|<[^>]+>", re.S | re.I)
_WORD = re.compile(r"[^\W\d_]+")
_CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
# Frequent function words; enough to tell the languages these packages' pages are in.
_STOP = {
    "en": {"the", "and", "of", "to", "is", "in", "that", "for", "with", "was", "this", "are"},
    "de": {"der", "die", "und", "das", "ist", "nicht", "mit", "den", "von", "auch", "sich", "ein"},
    "fr": {"le", "la", "les", "et", "des", "est", "une", "pour", "dans", "qui", "pas", "du"},
    "es": {"el", "los", "las", "y", "que", "por", "una", "con", "para", "como", "del", "se"},
    "it": {"il", "che", "di", "della", "per", "sono", "una", "non", "gli", "nel", "con", "è"},
}
_TLD = {"de": "de", "at": "de", "ch": "de", "fr": "fr", "es": "es", "it": "it", "cn": "zh", "tw": "zh",
        "jp": "ja", "uk": "en", "us": "en"}


def safe_name(stem: str) -> str:
    """ASCII, file-safe name: 'kulinariaathome.com.mandelplätzchen' -> 'kulinariaathome.com.mandelplatzchen'."""
    ascii_ = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_).strip("-.") or "page"


def cjk_count(text: str) -> int:
    """Number of Han and kana characters."""
    return len(_CJK.findall(text))


def text_lang(text: str) -> str | None:
    """Rough language of plain text by CJK share and function-word counts; None if unclear."""
    cjk = len(_CJK.findall(text))
    if cjk > 200 or cjk > 0.3 * max(1, len(text.strip())):
        return "ja" if len(_KANA.findall(text)) > 0.05 * cjk else "zh"
    counts = {lang: 0 for lang in _STOP}
    for w in _WORD.findall(text.lower()):
        for lang, words in _STOP.items():
            counts[lang] += w in words
    best = max(counts, key=lambda k: (counts[k], k))
    return best if counts[best] >= 10 else None


def page_lang(html: bytes, url: str | None) -> str:
    """`<html lang>` if given, else a guess from the visible text, else from the URL's TLD, else 'und'."""
    if m := _HTML_LANG.search(html[:20000]):
        return m.group(1).decode().lower()
    if lang := text_lang(_TAG.sub(" ", html.decode("utf-8", "replace"))):
        return lang
    host = urlsplit(url or "").hostname or ""
    return _TLD.get(host.rsplit(".", 1)[-1], "und")
