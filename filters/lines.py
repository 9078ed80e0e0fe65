"""Line cleaning for web text: boilerplate lines out, article lines in, judged in context.

C4's rules (drop every line without terminal punctuation or with fewer than 3 words) delete
headings, lists, paragraphs ending in ':' and Chinese lines ending in no mark. Here a line is
removed only for a named reason (`lines_removed:REASON`):

- its own text, when the line is short enough to be interface rather than prose: `copyright`,
  `policy` (cookies, privacy, terms, imprint), `javascript`, `login`, `share`, `read_more`,
  `promo` (subscribe, click here, 点击, 红包, `淘宝搜:【...】`), `meta` (bylines, dates, comment
  counts, reading time), `ui_label` (a lone "Advertisement", "Drucken", "返回顶部"), `nav`
  (`Home | News | Sport`), `breadcrumb` (`Home > News > World`), `seo_keywords` (keywords
  stuffed between | or _, in 【】, or between spaces in Chinese); the patterns are in
  filters/line_patterns.py;
- its context: `related_links`, a "Related articles" / "Auch interessant:" / "相关阅读" heading
  and the short lines after it; `link_list`, a run of short lines at the page's top or bottom (no
  paragraph before it, or none after it) whose words the page's paragraphs do not share, as
  menus, footers and lists of unrelated titles are, or such a run anywhere once it is very long
  (80 `•` link lines). Lists inside an article (ingredients, tips, code) sit between paragraphs
  or share their words, and stay; so do headings and captions. A page with too little paragraph
  text to compare with (verse, lyrics, a blog post in short lines) keeps its runs.

Extractors already drop most menus; what reaches this step is mostly article text with a few
leftovers, so every rule is narrow. Widths are display widths (a CJK character counts 2), so one
threshold fits English, German and Chinese. Every rule is a switch in `LinesConfig`; C4's own
line rules are there too, off by default. Measured in benchmarks/bench_real_web.py.
"""

from __future__ import annotations

import re

from filters.base import FilterDoc, Transform
from filters.config import LinesConfig
from filters.line_patterns import (COOKIE_NOTICE, COPYRIGHT, JAVASCRIPT, LOGIN, META, MORE_LINK_END, NEWSLETTER, POLICY,
                                   PROMO, READ_MORE, RELATED, SHARE, UI_LABELS, UI_PREFIX)
from filters.text import CJK_RANGES, display_width, ends_sentence, words

_NOT_LETTERS = re.compile(r"[^\w\s-]|\d|_")

_NAV_SEP = re.compile(r"\s+[|｜·•]\s+|[|｜]")
_MENU_ITEM = re.compile(r"^[\w\s&'’.,!?()/+-]+$")  # words, not code (`lsof |grep bar|grep less`)
# `_` separates keywords only between non-identifier characters (电影_下载, not snake_case).
_SEO_SEP = re.compile(r"[|｜]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
# Chinese prose separates phrases with ，、。 and never with spaces: CJK items between ASCII spaces
# are a menu (母婴 彩妆 家居 保健 美食) or a keyword list. Full-width spaces (classical verse) are not.
_CJK_PUNCT = re.compile("[，。！？；：、「」『』“”（）]")
# A Chinese line holding a full stop or two commas is prose (登录 in a manual, 点击 in a how-to):
# the interface-word rules leave it alone.
_CJK_PROSE = re.compile("。|，.*，")
# A Chinese line with a comma or enumeration mark is a sentence fragment, not a link title.
_CJK_CLAUSE = re.compile("[，、；。]")
_TITLE_ENDS = ("?", "？", "!", "！")  # titles ask and exclaim; a full stop ends prose
_CRUMB_SEP = re.compile(r"\s*(?:>>|>|»|›|＞)\s*")
_CODE = re.compile(r"[<$=\\{}│]")  # markup, shell, tables drawn with box characters
_BRACKETS = re.compile(r"【[^】]*】")
_BULLET = re.compile(r"^\s*([•●○▪■□◦‣⁃·»➤✓*-]|\d{1,3}[.、)）])\s*")
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")  # trafilatura writes tables as | a | b |
_CJK = re.compile(f"[{CJK_RANGES}]")
_CJK_RUN = re.compile(f"[{CJK_RANGES}]+")
_LONG_WORD = re.compile(r"[^\W\d_]{4,}")


def _segments(line: str, sep: re.Pattern) -> list[str]:
    return [s.strip() for s in sep.split(line) if s.strip()]


def _all_narrow(parts: list[str], max_width: int) -> bool:
    return all(display_width(p) <= max_width for p in parts)


def content_words(line: str) -> set[str]:
    """Words that carry a topic: Latin words of 4+ letters (lower case) and CJK character bigrams
    (single characters such as 的 are shared by any two Chinese lines)."""
    out = {w for w in _LONG_WORD.findall(_CJK_RUN.sub(" ", line).lower())}
    for run in _CJK_RUN.findall(line):
        out.update(run[i:i + 2] for i in range(len(run) - 1))
    return out


class LineCleaner(Transform):
    """Removes boilerplate lines of web text (see the module docstring); counts each removal as
    `lines_removed:REASON` and documents touched as `docs_with_lines_removed`."""

    name = "lines"
    Config = LinesConfig

    def apply(self, doc: FilterDoc) -> str:
        lines = doc.text.split("\n")
        reasons = self.line_reasons(lines)
        if not any(reasons):
            return doc.text
        for r in reasons:
            if r:
                self.counters[f"lines_removed:{r}"] += 1
        self.counters["docs_with_lines_removed"] += 1
        return "\n".join(ln for ln, r in zip(lines, reasons) if not r).strip("\n")

    def line_reasons(self, lines: list[str]) -> list[str | None]:
        """One entry per line: None to keep it (blank lines are kept), else the removal reason."""
        stripped = [ln.strip() for ln in lines]
        idx = [i for i, ln in enumerate(stripped) if ln]
        widths = {i: display_width(stripped[i]) for i in idx}
        reasons: list[str | None] = [None] * len(lines)
        for i in idx:
            reasons[i] = self.own_reason(stripped[i], widths[i])
        # A line removed for its own text (a copyright line ending in '.') belongs to the run around it.
        short = [reasons[i] is not None or self.is_short(stripped[i], widths[i]) for i in idx]
        if self.cfg.related_links:
            self._related(lines, idx, short, reasons)
        if self.cfg.link_list_min_lines is not None:
            self._link_lists(lines, idx, short, reasons)
        return reasons

    # -- one line ---------------------------------------------------------------------------------

    def own_reason(self, line: str, width: int | None = None) -> str | None:
        """The reason to remove a (stripped) line judged by its own text alone, or None."""
        c = self.cfg
        width = display_width(line) if width is None else width
        low = line.lower()
        if c.max_word_length is not None and any(len(w) > c.max_word_length for w in line.split()):
            return "c4_long_word"
        if width <= c.max_notice_width:
            if c.copyright and COPYRIGHT.search(line, low):
                return "copyright"
            if c.policy and COOKIE_NOTICE.search(line, low):
                return "policy"
            if c.javascript and JAVASCRIPT.search(line, low):
                return "javascript"
            if c.promo and NEWSLETTER.search(line, low):
                return "promo"
            if c.read_more and MORE_LINK_END.search(line, low):
                return "read_more"
            if c.breadcrumb and self._is_breadcrumb(line):  # its last item, the page title, may be wide
                return "breadcrumb"
        if width <= c.max_ui_width and not _CJK_PROSE.search(line):
            reason = self._ui_reason(line, low)
            if reason:
                return reason
        if c.seo_min_keywords is not None and not _TABLE_ROW.match(line) and self._is_seo(line):
            return "seo_keywords"
        if c.require_terminal_punct and not ends_sentence(line):
            return "c4_no_terminal_punct"
        if c.min_words_per_line is not None and len(words(line)) < c.min_words_per_line:
            return "c4_too_few_words"
        return None

    def _ui_reason(self, line: str, low: str) -> str | None:
        c = self.cfg
        for reason, pattern in (("policy", POLICY), ("login", LOGIN), ("share", SHARE), ("read_more", READ_MORE),
                                ("promo", PROMO), ("meta", META)):
            if getattr(c, reason) and pattern.search(line, low):
                return reason
        if c.ui_label and self._is_label(line):
            return "ui_label"
        if _TABLE_ROW.match(line):  # a table row is data, not a menu
            return None
        if c.nav_min_items is not None and (self._is_nav(line) or self._is_cjk_list(line, 2 * c.nav_min_items, 8)):
            return "nav"
        return None

    @staticmethod
    def _is_label(line: str) -> bool:
        if UI_PREFIX.search(line):
            return True
        text = " ".join(_NOT_LETTERS.sub(" ", line).lower().split())
        if not text:  # a few marks, no letters: "|", "T + -", "+1", "326", "• • •"
            return len(line) <= 8
        if text in UI_LABELS:
            return True
        # "Weiterempfehlen Drucken", "Share Tweet Email": every word a label.
        return len(text.split()) > 1 and all(w in UI_LABELS for w in text.split())

    def _is_nav(self, line: str) -> bool:
        parts = _segments(line, _NAV_SEP)
        return (len(parts) >= self.cfg.nav_min_items and _all_narrow(parts, self.cfg.item_width)
                and all(_MENU_ITEM.match(p) for p in parts))

    def _is_breadcrumb(self, line: str) -> bool:
        """Home > News > World: 2+ separators, narrow items (the last one, the page title, may be wide)."""
        if ends_sentence(line) or len(_CRUMB_SEP.findall(line)) < 2 or _CODE.search(line):
            return False
        parts = _segments(line, _CRUMB_SEP)
        return len(parts) >= 2 and _all_narrow(parts[:-1], self.cfg.item_width)

    def _is_seo(self, line: str) -> bool:
        """Keyword stuffing: many short keywords joined by | or _ (电影_下载), wrapped in 【】 or, in
        Chinese, between spaces, and no sentence."""
        if ends_sentence(line) and not line.endswith("】"):
            return False
        n = self.cfg.seo_min_keywords
        if len(_BRACKETS.findall(line)) >= n:
            return True
        parts = _segments(line, _SEO_SEP)
        return (len(parts) >= n and _all_narrow(parts, self.cfg.item_width)) or \
            self._is_cjk_list(line, 2 * n, self.cfg.item_width)

    @staticmethod
    def _is_cjk_list(line: str, min_items: int, max_width: int) -> bool:
        """Items between ASCII spaces, most of them Chinese and no wider than max_width, no CJK
        punctuation: 邓朴方潜逃 第92号红通自首 活力影院灰姑娘 ... (a real spam line of 22993 items)"""
        if not _CJK.search(line) or _CJK_PUNCT.search(line):
            return False
        parts = [p for p in line.split(" ") if p]
        return (len(parts) >= min_items and sum(bool(_CJK.search(p)) for p in parts) >= 0.8 * len(parts)
                and sum(display_width(p) <= max_width for p in parts) >= 0.9 * len(parts))

    def is_short(self, line: str, width: int | None = None) -> bool:
        """Short enough to be a link title or menu item: narrower than short_line_width, or a
        bulleted or Chinese line narrower than bullet_line_width; a line ending in a full stop, or
        a Chinese line with a comma, is prose."""
        if _CJK_CLAUSE.search(line) or (ends_sentence(line) and not line.endswith(_TITLE_ENDS)):
            return False
        width = display_width(line) if width is None else width
        if width < self.cfg.short_line_width:
            return True
        # A Chinese title runs to 30 characters; Chinese prose has commas (above).
        wide_ok = _BULLET.match(line) is not None or _CJK.search(line) is not None
        return wide_ok and width < self.cfg.bullet_line_width

    # -- in context -------------------------------------------------------------------------------

    @staticmethod
    def _runs(short: list[bool]) -> list[tuple[int, int]]:
        """[start, end) positions of the runs of short lines among the non-blank lines."""
        runs, k = [], 0
        while k < len(short):
            if short[k]:
                j = k
                while j < len(short) and short[j]:
                    j += 1
                runs.append((k, j))
                k = j
            else:
                k += 1
        return runs

    def _related(self, lines: list[str], idx: list[int], short: list[bool], reasons: list[str | None]) -> None:
        """A "Related articles" heading and the short lines (titles) right after it."""
        for k, i in enumerate(idx):
            line = lines[i].strip()
            if not short[k] or display_width(line) > self.cfg.max_ui_width or not RELATED.search(line, line.lower()):
                continue
            reasons[i] = reasons[i] or "related_links"
            j = k + 1
            while j < len(idx) and short[j]:
                reasons[idx[j]] = reasons[idx[j]] or "related_links"
                j += 1

    def _link_lists(self, lines: list[str], idx: list[int], short: list[bool], reasons: list[str | None]) -> None:
        c = self.cfg
        paras = [p for p, is_short in enumerate(short) if not is_short]
        if sum(len(lines[idx[p]].strip()) for p in paras) < c.link_list_min_article_chars:
            return  # verse, lyrics, a blog post in short lines: lists cannot be told from content
        first, last = paras[0], paras[-1]
        runs = [(k, j) for k, j in self._runs(short) if j - k >= c.link_list_min_lines and (
            first > k or last < k  # no paragraph before it, or none after it
            or (c.link_list_inner_lines is not None and j - k >= c.link_list_inner_lines))]
        if not runs:
            return
        article = set().union(*(content_words(lines[idx[p]]) for p in paras))
        for k, j in runs:
            if self._overlap([content_words(lines[idx[p]]) for p in range(k, j)], article) > c.link_list_max_overlap:
                continue
            # A heading: the run's last line, when a paragraph follows it.
            last_kept = j - 1 if c.keep_headings and j < len(idx) else None
            for p in range(k, j):
                if p != last_kept:
                    reasons[idx[p]] = reasons[idx[p]] or "link_list"

    @staticmethod
    def _overlap(run: list[set[str]], article: set[str]) -> float:
        """Mean share of a run line's words found in the page's paragraphs: titles of unrelated
        pages and menu items share few, an article's own lists many."""
        shares = [len(v & article) / len(v) for v in run if v]
        return sum(shares) / len(shares) if shares else 0.0
