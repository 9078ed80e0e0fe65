"""HTML -> text lines with the stdlib parser, as a naive crawler's export would hold them.

Every block element and `<br>` ends a line; script, style and other non-text elements are
skipped; the title is kept as the first line. Nothing is judged boilerplate here: navigation and
link lists stay, which is the point for the Chinese web-text set (web/zh/).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_SKIP = {"script", "style", "noscript", "template", "svg", "iframe", "object", "head", "select", "textarea"}
_BLOCK = {"p", "div", "br", "li", "ul", "ol", "tr", "td", "th", "table", "h1", "h2", "h3", "h4", "h5", "h6",
          "section", "article", "header", "footer", "nav", "aside", "blockquote", "pre", "dd", "dt", "dl",
          "form", "hr", "title", "main", "figure", "figcaption", "option", "body", "html"}
_SPACE = re.compile(r"[ \t\r\n\f\v\u00a0\u3000]+")


class _Lines(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.buf: list[str] = []
        self.skip = 0
        self.title: list[str] = []
        self.in_title = False

    def _flush(self):
        line = _SPACE.sub(" ", "".join(self.buf)).strip()
        if line:
            self.lines.append(line)
        self.buf = []

    def handle_starttag(self, tag, attrs):
        if tag == "title":
            self.in_title = True
        elif tag in _SKIP:
            self.skip += 1
        if tag in _BLOCK:
            self._flush()

    def handle_startendtag(self, tag, attrs):
        if tag in _BLOCK:
            self._flush()

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False
        elif tag in _SKIP and self.skip:
            self.skip -= 1
        if tag in _BLOCK:
            self._flush()

    def handle_data(self, data):
        if self.in_title:
            self.title.append(data)
        elif not self.skip:
            self.buf.append(data)


def html_lines(html: str) -> tuple[str, list[str]]:
    """(title, visible text lines) of an HTML document."""
    p = _Lines()
    p.feed(html)
    p.close()
    p._flush()
    return _SPACE.sub(" ", "".join(p.title)).strip(), p.lines


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_-]+)""", re.I)


def decode_page(raw: bytes) -> tuple[str, str]:
    """(text, encoding) of a saved page: UTF-8 if it decodes, else its <meta> charset (GB2312 read as
    its superset GB18030), else GB18030."""
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    m = _META_CHARSET.search(raw[:4096])
    enc = m.group(1).decode().lower() if m else "gb18030"
    enc = {"gb2312": "gb18030", "gbk": "gb18030", "big5": "big5hkscs"}.get(enc, enc)
    return raw.decode(enc, "replace"), enc
