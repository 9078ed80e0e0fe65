"""Wikitext to plain prose, in linear passes (no parse tree).

Order matters: what is removed first cannot confuse the passes after it.
1. `<nowiki>` contents are protected (their markup characters become entities, restored last);
   HTML comments are removed.
2. Sections whose heading is in the drop list (References, External links, ...) are removed up to
   the next heading of the same or a higher level.
3. Tags whose content is not prose (`<ref>`, `<references>`, `<gallery>`, `<math>`, ...) are
   removed with their content.
4. Templates `{{...}}` (nested, parser functions included) are removed.
5. Tables `{| ... |}` (nested) are dropped, or rendered one line per row, cells joined by " | ".
6. Links: `[[File:...]]`, `[[Category:...]]` and interlanguage links are removed (their captions may
   hold links: the match is nested); `[[target|label]]` -> label, `[[target]]s` -> targets;
   `[url label]` -> label, a bare `[url]` is removed.
7. Bold / italic quotes (MediaWiki's rules for `''x'''s`), headings, list and indent markers,
   remaining HTML tags (content kept, `<br>` -> newline), magic words, entities.
8. Whatever unbalanced markup is left (`[[`, `]]`, `{{`, `}}`, `{|`, `|}`) is removed and counted.

Measured on the real-data set's Wikipedia dumps (gensim 4.4.0: 121 articles, 6.0 MB of wikitext;
benchmarks/bench_real_books_wiki.py), one run on the shared 2-core machine: 10.6 MB/s and no markup
left in any article. The parse-tree renderer this replaced (mwparserfromhell 0.7.2, C tokenizer in
use) ran at 0.89 MB/s and left markup in 18 articles (raw `<ref>` tags, `{|` tables, `[[File:`
links, bold quotes) wherever its tokenizer gave up on a construct and kept the rest as text; a regex
pre-pass (comments, refs, templates, tables) before it: 3.8 MB/s, markup left in 15.
"""

from __future__ import annotations

import html
import re
from typing import Iterable

# Tags whose content is not prose: footnotes, tables, galleries, maths, code, maps, ...
DROP_TAGS = ("ref", "references", "gallery", "math", "chem", "ce", "score", "timeline", "graph", "imagemap",
             "inputbox", "templatedata", "templatestyles", "categorytree", "source", "syntaxhighlight", "style",
             "script", "mapframe", "maplink", "indicator", "hiero", "charinsert")
# Media and category links carry no prose; nor do interlanguage links ("de:Berlin": a lowercase
# language prefix, while article titles are capitalised). A leading ':' makes any of them inline.
MEDIA_PREFIXES = frozenset({
    "file", "image", "media", "category", "datei", "bild", "kategorie", "fichier", "catégorie", "archivo",
    "imagen", "categoría", "categoria", "immagine", "файл", "изображение", "категория", "ファイル", "画像",
    "カテゴリ", "文件", "檔案", "图像", "圖像", "分类", "分類", "plik", "kategoria", "bestand", "categorie",
    "категорія", "kategori", "fil", "luokka", "tiedosto",
})
# What counts as markup left in a cleaned text (see markup_tokens).
MARKUP_TOKENS = ("<ref", "</ref", "{{", "}}", "{|", "|}", "[[", "]]", "<!--", "-->", "__TOC__", "__NOTOC__",
                 "'''", "''", "<references", "<gallery", "<br", "[[File:", "[[Image:", "[[Category:",
                 "&nbsp;", "&amp;", "<div", "<span", "<small", "<sup", "<sub", "<math", "<table")

_F = re.IGNORECASE | re.DOTALL
_NOWIKI = re.compile(r"<nowiki\s*>(.*?)</nowiki\s*>|<nowiki\s*/>", _F)
_PROTECT = {c: f"&#{ord(c)};" for c in "[]{}|'<>=_*#:;&"}
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
_TAG_NAMES = "|".join(DROP_TAGS)
_DROP_TAG = re.compile(rf"<({_TAG_NAMES})\b[^>]*?/>|<({_TAG_NAMES})\b[^>]*>.*?</\2\s*>", _F)
_OPEN_DROP_TAG = re.compile(rf"<(?:{_TAG_NAMES})\b[^>]*>[^\n]*", re.IGNORECASE)  # unclosed: to end of line
_BRACES = re.compile(r"\{\{|\}\}")
_TABLE_LINE = re.compile(r"^[ \t:]*(\{\||\|\})", re.MULTILINE)
_LINKS = re.compile(r"\[\[|\]\]")
_INTERLANG = re.compile(r"^\s*[a-z]{2,3}(?:-[a-z]+)*\s*:")
_EXT_LINK = re.compile(r"\[(?:(?:https?|ftp|ftps|irc|ircs|news|mailto|gopher|nntp|telnet|worldwind|svn|git):|//)"
                       r"[^\s\]]*(?:[ \t]+([^\]\n]*))?\]", re.IGNORECASE)
_HEADING = re.compile(r"^(={1,6})[ \t]*(.+?)[ \t]*\1[ \t]*$", re.MULTILINE)
_QUOTES = re.compile(r"'{2,}")
_LIST = re.compile(r"^[ \t]*[*#:;]+[ \t]*", re.MULTILINE)
_HRULE = re.compile(r"^-{4,}[ \t]*$", re.MULTILINE)
_BR = re.compile(r"<br\s*/?\s*>", re.IGNORECASE)
# MediaWiki's allowed HTML tags (others are shown as text, so `List<T>` stays): removed, content kept.
_HTML_TAGS = ("b|i|u|s|del|ins|big|small|sub|sup|code|tt|kbd|var|samp|abbr|cite|dfn|em|strong|span|div|p|font|"
              "center|blockquote|pre|q|ruby|rb|rp|rt|rtc|bdi|bdo|data|time|mark|h[1-6]|ul|ol|li|dl|dt|dd|table|"
              "tr|td|th|caption|thead|tbody|tfoot|hr|wbr|strike|poem|onlyinclude|includeonly|noinclude|nowiki|"
              "br|ref|references|gallery|math|section|translate|languages|tvar")
_HTML_TAG = re.compile(rf"</?(?:{_HTML_TAGS})\b[^<>]*>", re.IGNORECASE)
_MAGIC_WORD = re.compile(r"__[A-Z]+__")
_RESIDUE = re.compile(r"\[\[|\]\]|\{\{|\}\}|^[ \t]*\{\||^[ \t]*\|\}", re.MULTILINE)
# What removed pronunciation / date templates leave: "(; born 1970)", "()".
_EMPTY_PARENS = re.compile(r"\([ \t]*(?:[;,][ \t]*)*\)")
_PAREN_LEAD = re.compile(r"\([ \t]*[;,][ \t]*")
_BLANKS = re.compile(r"\n{3,}")
_SPACES = re.compile(r"[ \t]+")


def _protect(m: re.Match) -> str:
    return "".join(_PROTECT.get(c, c) for c in (m.group(1) or ""))


def _norm_heading(text: str) -> str:
    return " ".join(_QUOTES.sub("", text).split()).casefold()


def drop_sections(text: str, names: Iterable[str]) -> str:
    """Remove each section whose heading (case-insensitive) is in `names`, with its subsections."""
    wanted = {_norm_heading(n) for n in names}
    if not wanted:
        return text
    out, pos, skip_level = [], 0, 0
    for m in _HEADING.finditer(text):
        level = len(m.group(1))
        if skip_level and level > skip_level:
            continue
        if skip_level:
            pos, skip_level = m.start(), 0
        if _norm_heading(m.group(2)) in wanted:
            out.append(text[pos:m.start()])
            skip_level = level
    if not skip_level:
        out.append(text[pos:])
    return "".join(out)


def _balanced(text: str, pattern: re.Pattern, keep) -> str:
    """Replace each outermost balanced span (pattern: opener | closer, each 2 characters) by
    keep(span). An opener that is never closed is left for the residue pass."""
    out, pos, depth, start = [], 0, 0, 0
    for m in pattern.finditer(text):
        if m.group() in ("{{", "[["):
            if depth == 0:
                start = m.start()
            depth += 1
        elif depth:
            depth -= 1
            if depth == 0:
                out.append(text[pos:start])
                out.append(keep(text[start:m.end()]))
                pos = m.end()
    out.append(text[pos:])
    return "".join(out)


def _render_table(lines: list[str]) -> list[str]:
    """A table's rows as text lines, cells joined by ' | ' (attributes and captions' markup dropped)."""
    rows: list[list[str]] = []
    for line in lines:
        s = line.strip()
        if s.startswith(("{|", "|}")) or not s:
            continue
        if s.startswith("|-"):
            rows.append([])
            continue
        if s.startswith("|+"):
            rows.append([s[2:].split("|")[-1].strip()])
            rows.append([])
            continue
        if s[0] in "|!":
            if not rows:
                rows.append([])
            for cell in re.split(r"\|\||!!", s[1:]):
                # `attrs | content`: a single '|' outside links separates the cell's attributes
                parts = re.split(r"\|(?![^\[]*\]\])", cell, maxsplit=1)
                rows[-1].append(parts[-1].strip(" \t|"))
        elif rows and rows[-1]:
            rows[-1][-1] += " " + s  # a cell's content continued on the next line
    return [" | ".join(c for c in row if c) for row in rows if any(row)]


def _tables(text: str, render: bool) -> str:
    """Drop or render `{| ... |}` tables, nested ones included (both markers start a line)."""
    if "{|" not in text:
        return text
    lines = text.split("\n")
    out: list[str] = []
    table: list[str] = []
    depth = 0
    for line in lines:
        m = _TABLE_LINE.match(line)
        if m and m.group(1) == "{|":
            depth += 1
        if depth:
            table.append(line)
        else:
            out.append(line)
        if m and m.group(1) == "|}" and depth:
            depth -= 1
            if depth == 0:
                out.extend(_render_table(table) if render else [])
                table = []
    if table:  # never closed: MediaWiki renders to the end of the page
        out.extend(_render_table(table) if render else [])
    return "\n".join(out)


def _link(span: str) -> str:
    inner = span[2:-2]
    target, bar, label = inner.partition("|")
    stripped = target.strip()
    if stripped.startswith(":"):  # [[:Category:X]] is a visible link
        target = stripped[1:]
    else:
        prefix, colon, _ = stripped.partition(":")
        if colon and (prefix.strip().lower() in MEDIA_PREFIXES or _INTERLANG.match(stripped)):
            return ""
    if not bar:
        return target.strip()
    label = label.strip()
    if "[[" in label:  # only media captions nest links; anything else: render the inside
        label = _balanced(label, _LINKS, _link)
    return label or target.strip()  # [[target|]] (the pipe trick) shows the target


def _quotes_line(line: str) -> str:
    """MediaWiki's doQuotes for one line: bold / italic markers removed; when both counts are odd
    one bold marker is an apostrophe plus italics (`''Iliad'''s` -> Iliad's)."""
    parts = _QUOTES.split(line)
    if len(parts) == 1:
        return line
    runs = _QUOTES.findall(line)
    keep = [""] * len(runs)
    for i, r in enumerate(runs):
        if len(r) == 4:
            keep[i], runs[i] = "'", "'''"
        elif len(r) > 5:
            keep[i], runs[i] = "'" * (len(r) - 5), "'''''"
    italics = sum(len(r) in (2, 5) for r in runs)
    bolds = sum(len(r) in (3, 5) for r in runs)
    if italics % 2 and bolds % 2:
        first_single = first_multi = first_space = None
        for i, r in enumerate(runs):
            if len(r) != 3:
                continue
            before = parts[i]
            x1 = before[-1:] if before else ""
            x2 = before[-2:-1] if len(before) > 1 else x1  # as PHP's substr($s, -2, 1) on one character
            if x1 == " ":
                first_space = i if first_space is None else first_space
            elif x2 == " ":
                first_single = i if first_single is None else first_single
            else:
                first_multi = i if first_multi is None else first_multi
        pick = next((i for i in (first_single, first_multi, first_space) if i is not None), None)
        if pick is not None:
            keep[pick] = keep[pick] + "'"
    out = [parts[0]]
    for i, r in enumerate(runs):
        out.append(keep[i])
        out.append(parts[i + 1])
    return "".join(out)


def wikitext_to_text(wikitext: str, tables: str = "drop", sections: Iterable[str] = ()) -> tuple[str, int]:
    """(plain prose, number of unbalanced markup tokens removed in the last pass)."""
    text = _NOWIKI.sub(_protect, wikitext) if "nowiki" in wikitext else wikitext
    text = _COMMENT.sub("", text)
    text = drop_sections(text, sections)
    text = _DROP_TAG.sub("", text)
    text = _OPEN_DROP_TAG.sub("", text)
    if "{{" in text:
        text = _balanced(text, _BRACES, lambda _: "")
    text = _tables(text, tables == "text")
    if "[[" in text:
        text = _balanced(text, _LINKS, _link)
    text = _EXT_LINK.sub(lambda m: m.group(1) or "", text)
    text = _HEADING.sub(r"\2", text)
    if "''" in text:
        text = "\n".join(_quotes_line(line) if "''" in line else line for line in text.split("\n"))
    text = _LIST.sub("", text)
    text = _HRULE.sub("", text)
    text = _BR.sub("\n", text)
    text = _HTML_TAG.sub("", text)
    text = _MAGIC_WORD.sub("", text)
    text, residue = _RESIDUE.subn("", text)
    text = html.unescape(text)
    text = _PAREN_LEAD.sub("(", _EMPTY_PARENS.sub("", text))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip(), residue


def markup_tokens(text: str) -> dict[str, int]:
    """{token: occurrences} of the wiki / HTML markup tokens found in a cleaned text."""
    return {tok: n for tok in MARKUP_TOKENS if (n := text.count(tok))}
