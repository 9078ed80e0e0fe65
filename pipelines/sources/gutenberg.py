"""Project Gutenberg front and back matter, every generation of it, and the header's metadata.

- Header, cut up to the end of: `*** START OF THE/THIS PROJECT GUTENBERG EBOOK ... ***` (one to
  four lines, `***START...`, `E-BOOK`, `ETEXT`), or the 1990s small print's last line
  `*END*THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*Ver.04.29.93*END*` (also `*END THE SMALL PRINT`).
- No start marker, but the text opens with a Project Gutenberg line (the 1992 etexts: "This is the
  February 1992 Project Gutenberg release of:", "The Project Gutenberg Etext of ..."): the
  preamble is the paragraphs up to the last one in the first pages that names Project Gutenberg or
  an etext.
- Footer, cut from the first of: `*** END OF THE/THIS PROJECT GUTENBERG EBOOK`, `End of (the)
  Project Gutenberg...` with or without a leading `*` (`*End of The Project Gutenberg Etext of`),
  `***START**THE SMALL PRINT!` (early-2000s texts put the small print last), `*** START: FULL
  LICENSE ***`.
- In the body: a "Produced by" / "E-text prepared by" / "Transcribed from ... by" credit in the
  first paragraphs, `[Transcriber's Note: ...]` blocks anywhere, and a "Transcriber's Notes"
  section at the start or end of the body.

Lines may end in CRLF (the read stage normalises newlines after the reader): every pattern here
tolerates a `\\r` before the newline.
"""

from __future__ import annotations

import re

_F = re.IGNORECASE | re.MULTILINE
_START = re.compile(
    r"^[ \t]*\*{3}[ \t]*START OF (?:THE |THIS )?PROJECT GUTENBERG E-?(?:BOOK|TEXT)[^\n]*?"
    r"(?:\*{3}[^\n]*|(?:\n[^\n*]*){1,3}?\*{3}[^\n]*)$"
    r"|^[ \t]*\*END\*?[ \t]*THE SMALL PRINT![^\n]*$", _F)
_END = re.compile(
    r"^[ \t]*\*{3}[ \t]*END OF (?:THE |THIS )?PROJECT GUTENBERG E-?(?:BOOK|TEXT)"
    r"|^[ \t]*\*?[ \t]*End of (?:the |this )?Project Gutenberg"
    r"|^[ \t]*\*{3}[ \t]*START\**[ \t]*:?[ \t]*(?:THE SMALL PRINT|FULL LICEN[CS]E)", _F)
# Paragraph boundary: a line holding only blanks (CR included).
_PARA = re.compile(r"\n[ \t\r]*\n")
_PG = re.compile(r"project gutenberg", re.IGNORECASE)
_PG_OR_ETEXT = re.compile(r"project gutenberg|\be-?texts?\b", re.IGNORECASE)
# How far into a text without a start marker a 1992-style preamble may reach.
PREAMBLE_WINDOW = 20_000
_CREDIT = re.compile(
    r"\s*(?:produced by|e-?text (?:prepared|created|scanned) by|this e-?(?:text|book) (?:was|is) "
    r"(?:prepared|produced|created)|transcribed (?:from|by)|scanned (?:and proofread )?by)\b"
    r"|[^\n]*(?:distributed proofread|pgdp\.net)", re.IGNORECASE)
_NOTE_BLOCK = re.compile(r"[ \t]*\[[ \t]*transcriber['’]?s?[ \t]+notes?\b[^\]]{0,4000}\]\n?", re.IGNORECASE)
_NOTE_HEAD = re.compile(r"\s*transcriber['’]?s?[ \t]+notes?\b", re.IGNORECASE)
_SECTION_GAP = re.compile(r"\n(?:[ \t\r]*\n){2,}")  # two or more blank lines end a note section
_EDGE_PARAS = 5  # credits and note sections are looked for in this many paragraphs at each end
_MAX_CREDIT = 600
_MAX_NOTE = 5000

# A line of Gutenberg boilerplate, for measuring what a cleaner left (see boilerplate_lines). A
# credit starts its line ("Produced by ..."); "had been produced by Tuskegee" in a sentence is prose.
BOILERPLATE_LINE = re.compile(
    r"project gutenberg|gutenberg\.(?:org|net)|\bpglaf\b|small print|\*{3}[ \t]*(?:start|end) of|"
    r"\be-?texts?\b|^[ \t]*produced by|distributed proofread|transcriber['’]?s note", re.IGNORECASE)


def _paragraphs(text: str, stop: int | None = None) -> list[tuple[int, int]]:
    """(start, end) of the paragraphs that end before `stop`; all of them where `stop` is None."""
    spans, start = [], 0
    for m in _PARA.finditer(text, 0, len(text) if stop is None else stop):
        spans.append((start, m.start()))
        start = m.end()
    return spans + [(start, len(text))] if stop is None else spans


def _preamble_end(text: str) -> int:
    """End of a 1992-style preamble: text opening with a Project Gutenberg line, no start marker."""
    first_lines = [line for line in text[:2000].splitlines() if line.strip()][:5]
    if not _PG.search("\n".join(first_lines)):
        return 0
    begin = 0
    for start, end in _paragraphs(text, min(PREAMBLE_WINDOW, len(text))):
        if _PG_OR_ETEXT.search(text, start, end):
            begin = end
    return begin


def split_gutenberg(text: str) -> tuple[str, str, str]:
    """(header, body, footer); header and footer are empty where no marker was found."""
    start = _START.search(text)
    begin = start.end() if start else _preamble_end(text)
    end = _END.search(text, begin)
    stop = end.start() if end else len(text)
    return text[:begin], text[begin:stop], text[stop:]


def _drop_edge_sections(body: str) -> str:
    """Credits in the first paragraphs; a Transcriber's Notes section at either end."""
    body = _NOTE_BLOCK.sub("", body).strip("\r\n")
    cut = 0
    for start, end in _paragraphs(body)[:_EDGE_PARAS]:
        if start != cut or end - start > _MAX_CREDIT or not _CREDIT.match(body, start, end):
            break
        cut = _PARA.match(body, end).end() if end < len(body) else end
    body = body[cut:]
    spans = _paragraphs(body)
    edges = spans[:_EDGE_PARAS] + spans[-_EDGE_PARAS:]
    for start, _ in edges:
        if not _NOTE_HEAD.match(body, start):
            continue
        gap = _SECTION_GAP.search(body, start)
        stop = gap.start() if gap else len(body)
        if stop - start <= _MAX_NOTE:
            return _drop_edge_sections(body[:start] + body[stop:])
    return body


def strip_gutenberg(text: str) -> tuple[str, bool]:
    """(body without Gutenberg header, footer, credits and transcriber's notes; whether a marker was found)."""
    body, marked, _ = gutenberg_book(text)
    return body, marked


def gutenberg_book(text: str) -> tuple[str, bool, dict[str, str]]:
    """(body, whether a marker was found, title / author / language from the header)."""
    header, body, footer = split_gutenberg(text)
    return _drop_edge_sections(body).strip(), bool(header or footer), gutenberg_meta(header)


# --- header metadata -------------------------------------------------------------------------

_FIELD = re.compile(r"^(Title|Author|Language)[ \t]*:[ \t]*(\S[^\n]*?)[ \t\r]*$((?:\n[ \t]+\S[^\n]*)*)", _F)
_RELEASE = re.compile(r"project gutenberg(?:['’]s)? (?:e-?text|e-?book|release) of:?[ \t]*([^\n]*?)[ \t\r]*$", _F)
_BY = re.compile(r",?\s+by\s+", re.IGNORECASE)
_LANGUAGES = {
    "english": "en", "french": "fr", "german": "de", "spanish": "es", "italian": "it", "portuguese": "pt",
    "dutch": "nl", "finnish": "fi", "swedish": "sv", "danish": "da", "norwegian": "no", "latin": "la",
    "greek": "el", "russian": "ru", "polish": "pl", "hungarian": "hu", "chinese": "zh", "japanese": "ja",
    "esperanto": "eo", "catalan": "ca", "czech": "cs", "tagalog": "tl", "welsh": "cy", "icelandic": "is",
}


def gutenberg_meta(header: str) -> dict[str, str]:
    """title / author / language from a Gutenberg header: its `Title:` / `Author:` / `Language:`
    fields, else the "Project Gutenberg Etext of TITLE, by AUTHOR" line (1990s texts)."""
    meta: dict[str, str] = {}
    for m in _FIELD.finditer(header):
        value = " ".join((m.group(2) + m.group(3)).split())
        meta.setdefault(m.group(1).lower(), value)
    if "title" not in meta and (m := _RELEASE.search(header)):
        line = m.group(1).strip()
        if not line:  # "release of:" and the title on the next line that has text
            line = next((ln.strip() for ln in header[m.end():].splitlines() if ln.strip()), "")
        title, author = (_BY.split(line, maxsplit=1) + [""])[:2]
        if title:
            meta["title"] = title.strip(" ,")
        if author and "author" not in meta:
            meta["author"] = author.strip(" ,")
    if "language" in meta:
        meta["language"] = _LANGUAGES.get(meta["language"].lower(), meta["language"])
    return meta


def boilerplate_lines(text: str) -> list[str]:
    """The lines of `text` that look like Project Gutenberg boilerplate (for measuring a cleaner)."""
    return [line for line in text.splitlines() if BOILERPLATE_LINE.search(line)]
