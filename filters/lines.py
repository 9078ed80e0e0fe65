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
from bisect import bisect_right
from collections import defaultdict
from functools import cached_property, lru_cache
from itertools import accumulate

from ahocorasick_rs import AhoCorasick

from filters.base import FilterDoc, Transform
from filters.config import LinesConfig
from filters.line_patterns import (COOKIE_NOTICE, COPYRIGHT, JAVASCRIPT, LOGIN, META, MORE_LINK_END, NEWSLETTER, POLICY,
                                   PROMO, READ_MORE, RELATED, SHARE, UI_LABELS, UI_PREFIX, UI_PREFIX_WORDS)
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


# -- Prefilters ------------------------------------------------------------------------------------
# A line can be removed for its own text only by a rule whose prefilter finds the line, so the rules
# run on those lines only, and each prefilter scans the whole text at once (`LineCleaner.hits`).
# Each finds a superset of the lines its rule can remove, class of character by class:
# - trigger words (filters/line_patterns.py `Words`): every occurrence in the text's lower case, by
#   one Aho-Corasick automaton (a regex alternation of 185 words costs sre ~80 ns a character);
#   one-character triggers (digits) by a regex that stops at the first of a line; META's lines
#   must also have one of its shapes (`_META_START`, `_META_END`, checked in `_ui_reason`);
# - `\s` is `str.isspace` (every code point, tests/filters/test_lines.py), so `[^\S\n]` is what
#   `str.strip` removes inside a line and `\S{n}` a word of `str.split` of n characters or more;
# - a ui_label line, after `_is_label`'s `_NOT_LETTERS` substitution, is nothing but words of
#   UI_LABELS: its runs of letters and '-' ([^\W\d_]|-) are those words, the rest separators;
#   IGNORECASE matches whatever `str.lower` maps onto a label word (and more);
# - separators: `_is_nav` needs nav_min_items - 1 of | ｜ · •, `_is_breadcrumb` 2 of > » › ＞,
#   `_is_seo` seo_min_keywords - 1 of | ｜ _ or seo_min_keywords 【, `_is_cjk_list` CJK and
#   min_items - 1 ASCII spaces.
_KEYS = ("long_word", "copyright", "cookie", "javascript", "newsletter", "more_end", "crumb", "policy", "login",
         "share", "read_more", "promo", "meta", "label", "nav", "seo", "related")
_BIT = {k: 1 << n for n, k in enumerate(_KEYS)}
# (prefilter key, config switch, trigger words)
_FAMILIES = (("copyright", "copyright", COPYRIGHT), ("cookie", "policy", COOKIE_NOTICE),
             ("javascript", "javascript", JAVASCRIPT), ("newsletter", "promo", NEWSLETTER),
             ("more_end", "read_more", MORE_LINK_END), ("policy", "policy", POLICY), ("login", "login", LOGIN),
             ("share", "share", SHARE), ("read_more", "read_more", READ_MORE), ("promo", "promo", PROMO),
             ("meta", "meta", META), ("related", "related_links", RELATED))
# (bit, reason, patterns): the rules of a line's own text in the order they are tried.
_NOTICES = ((_BIT["copyright"], "copyright", COPYRIGHT), (_BIT["cookie"], "policy", COOKIE_NOTICE),
            (_BIT["javascript"], "javascript", JAVASCRIPT), (_BIT["newsletter"], "promo", NEWSLETTER),
            (_BIT["more_end"], "read_more", MORE_LINK_END))
_UI_WORDS = tuple((_BIT[k], k, w) for k, w in (("policy", POLICY), ("login", LOGIN), ("share", SHARE),
                                                ("read_more", READ_MORE), ("promo", PROMO), ("meta", META)))
_CHUNK = 1 << 18  # characters per automaton call: its matches are a list, bounded so


def _trie(words: list[str]) -> str:
    """A regex matching exactly `words`, factored by common prefixes: sre tries one branch per next
    character instead of every word."""
    root: dict = {}
    for w in words:
        node = root
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict) -> str:
        branches = [re.escape(ch) + emit(sub) for ch, sub in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = "(?:" + "|".join(branches) + ")"
        return body + "?" if "" in node else body

    return emit(root)


@lru_cache(maxsize=1)
def _triggers() -> tuple[AhoCorasick, list[int], list[tuple[int, re.Pattern]]]:
    """The automaton of every trigger word of two characters or more, the bits of each of its
    words, and (bits, class) for the one-character triggers."""
    bits: dict[str, int] = {}
    for key, _, family in _FAMILIES:
        for w in family.words:
            bits[w] = bits.get(w, 0) | _BIT[key]
    long = sorted(w for w in bits if len(w) > 1)
    by_bits: dict[int, list[str]] = {}
    for w in sorted(w for w in bits if len(w) == 1):
        by_bits.setdefault(bits[w], []).append(w)
    chars = [(b, re.compile(f"[{''.join(map(re.escape, ws))}]")) for b, ws in by_bits.items()]
    assert max(map(len, long)) <= 64  # `_scan_triggers` reads a chunk on by 64 characters
    return AhoCorasick(long), [bits[w] for w in long], chars


_LABEL_WORDS = sorted({w for label in UI_LABELS for w in label.split()})
# A label line: UI_PREFIX's words first (after what `str.strip` removes), or nothing but label words
# and separators. Possessive: a line splits one way only into runs and separators, so nothing is
# lost by not backtracking (measured: 4x faster than the plain loop).
_LABEL_LINE = re.compile(rf"^(?:[^\S\n]*(?:{UI_PREFIX_WORDS})|(?!$)(?:[^\w\n-]++|[\d_]++|{_trie(_LABEL_WORDS)}"
                         rf"(?![^\W\d_]|-))*+$)", re.IGNORECASE | re.MULTILINE)
# META's every alternative is anchored. At the line's start (after non-word characters): a label
# word (by, tags, 作者, ...) or a number and what it counts (5 min read, 3 小时前, 12 跟帖); at its
# end (before non-word characters): a date or time (a digit, 日, or 12:30 pm / Uhr), or a count of
# comments (matched on the reversed line, anchored, so cheap). META's trigger words include the
# digits: most lines with one have neither shape and skip META's regex (14 us a line, measured).
_META_START = re.compile(r"\W*(?:\d+\s*(?:min|hour|day|分钟|小时|天|跟贴|跟帖|参与|阅读|浏览|点赞)|by|von|written|author|"
                         r"autor|lesezeit|reading|tags|schlagw|stichw|kategor|categor|filed|themen|标签|关键词|分类|"
                         r"责任编辑|编辑|来源|作者|发布时间|更新时间|vor|跟贴|跟帖|参与|阅读|浏览|点赞)", re.IGNORECASE)
_META_END = re.compile(r"\W*(?:\d|日\d|(?:rhu|ma|mp)\s*\d\d|s?tnemmoc\s+\d|e?ratnemmok\s+\d|netrowtna\s+\d|"
                       r"seilper\s+\d|negnutreweb\s+\d|论评条?\s*\d)", re.IGNORECASE)
_CJK_ANY = re.compile(f"[{CJK_RANGES}]")


def _at_least(chars: str, k: int) -> re.Pattern:
    """k (>= 1) characters of the class `chars` on one line."""
    return re.compile(f"[{chars}]" + (rf"(?:[^\n]*?[{chars}]){{{k - 1}}}" if k > 1 else ""))


def _cjk_items(min_items: int) -> re.Pattern:
    """A line with a CJK character and min_items - 1 ASCII spaces (`_is_cjk_list`'s items)."""
    return re.compile(rf"^(?=[^\n]*[{CJK_RANGES}])(?:[^\n ]*\x20){{{max(min_items - 1, 0)}}}", re.MULTILINE)


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
        c = self.cfg
        stripped = [ln.strip() for ln in lines]
        idx = [i for i, ln in enumerate(stripped) if ln]
        widths = {i: display_width(stripped[i]) for i in idx}
        reasons: list[str | None] = [None] * len(lines)
        hits = self.hits(lines)
        # C4's line rules judge every line; the others only the lines their prefilters found.
        every = c.require_terminal_punct or c.min_words_per_line is not None
        for i in (idx if every else hits):
            if stripped[i]:
                reasons[i] = self.own_reason(stripped[i], widths[i], hits.get(i, 0))
        # A line removed for its own text (a copyright line ending in '.') belongs to the run around it.
        short = [reasons[i] is not None or self.is_short(stripped[i], widths[i]) for i in idx]
        if c.related_links:
            related = _BIT["related"]
            self._related(stripped, widths, idx, [i for i, h in hits.items() if h & related], short, reasons)
        if c.link_list_min_lines is not None:
            self._link_lists(lines, stripped, idx, short, reasons)
        return reasons

    @cached_property
    def _enabled(self) -> int:
        """The bits of the trigger families switched on."""
        return sum(_BIT[key] for key, switch, _ in _FAMILIES if getattr(self.cfg, switch))

    @cached_property
    def _prefilters(self) -> list[tuple[int, re.Pattern, bool]]:
        """(bit, pattern, only where the text holds CJK) of the prefilters that are regexes."""
        c = self.cfg
        out: list[tuple[int, re.Pattern, bool]] = []
        if c.breadcrumb:
            out.append((_BIT["crumb"], _at_least(">»›＞", 2), False))
        if c.ui_label:
            out.append((_BIT["label"], _LABEL_LINE, False))
        cjk_items = []  # _is_cjk_list's minimum items for nav and seo: one scan for both, at the smaller
        if c.nav_min_items is not None:
            out.append((_BIT["nav"], _at_least("|｜·•", c.nav_min_items - 1), False))
            cjk_items.append((_BIT["nav"], 2 * c.nav_min_items))
        if c.seo_min_keywords is not None:
            n = c.seo_min_keywords
            out += [(_BIT["seo"], _at_least("|｜_", n - 1), False), (_BIT["seo"], _at_least("【", n), False)]
            cjk_items.append((_BIT["seo"], 2 * n))
        if cjk_items:
            out.append((sum(b for b, _ in cjk_items), _cjk_items(min(n for _, n in cjk_items)), True))
        return out

    def hits(self, lines: list[str]) -> dict[int, int]:
        """Line index -> bits (`_BIT`) of the own-text rules that may remove it; lines no prefilter
        finds are absent. Each prefilter scans the whole text once (the trigger words its lower
        case) instead of a regex search per line and rule: measured on the peer corpus, the
        cleaner 3x faster. Lines must not hold a newline."""
        text = "\n".join(lines)
        if text.count("\n") != len(lines) - 1:
            raise ValueError("line_reasons: a line holds a newline")
        out: dict[int, int] = defaultdict(int)
        starts = list(accumulate((len(ln) + 1 for ln in lines), initial=0))
        low = text.lower()
        if len(low) == len(text):
            self._scan_triggers(low, starts, 0, out)
        else:  # 'İ' lower-cases to two characters: the lower case's lines no longer line up
            for i, ln in enumerate(lines):
                low = ln.lower()
                self._scan_triggers(low, [0, len(low) + 1], i, out)
        self._scan(lines, text, starts, out)
        return out

    def _scan_triggers(self, low: str, starts: list[int], first: int, out: dict[int, int]) -> None:
        """Add the bits of the trigger words found in `low` (lines starting at `starts`, the first
        one line `first`) to `out`."""
        enabled = self._enabled
        if not enabled:
            return
        automaton, bits, chars = _triggers()
        for k in range(0, len(low), _CHUNK):
            # A match starting in this chunk may end in the next: the chunk is read on as far as the
            # longest trigger reaches.
            part = low[k:k + _CHUNK + 64]
            for w, a, _ in automaton.find_matches_as_indexes(part, overlapping=True):
                b = bits[w] & enabled
                if b and a < _CHUNK:
                    out[first + bisect_right(starts, k + a) - 1] |= b
        for b, pattern in chars:
            if b & enabled:
                self._lines_matching(pattern, low, starts, first, b & enabled, out)

    def _scan(self, lines: list[str], text: str, starts: list[int], out: dict[int, int]) -> None:
        """Add the bits of the regex prefilters to `out`."""
        c = self.cfg
        if c.max_word_length is not None and max(map(len, lines)) > c.max_word_length:
            self._lines_matching(re.compile(f"\\S{{{c.max_word_length + 1}}}"), text, starts, 0, _BIT["long_word"], out)
        cjk = not text.isascii() and _CJK_ANY.search(text) is not None
        for b, pattern, needs_cjk in self._prefilters:
            if cjk or not needs_cjk:
                self._lines_matching(pattern, text, starts, 0, b, out)


    @staticmethod
    def _lines_matching(pattern: re.Pattern, s: str, starts: list[int], first: int, b: int, out: dict[int, int]) -> None:
        """Add `b` to the lines of `s` where `pattern` matches (a search from each next line on)."""
        search, pos, end = pattern.search, 0, len(s)
        while pos <= end and (m := search(s, pos)) is not None:
            i = bisect_right(starts, m.start()) - 1
            out[first + i] |= b
            pos = starts[i + 1]

    # -- one line ---------------------------------------------------------------------------------

    def own_reason(self, line: str, width: int | None = None, hits: int | None = None) -> str | None:
        """The reason to remove a (stripped) line judged by its own text alone, or None. `hits`:
        the line's bits from `hits` (computed here when not given)."""
        c = self.cfg
        width = display_width(line) if width is None else width
        if hits is None:
            hits = self.hits([line]).get(0, 0)
        if not hits and not (c.require_terminal_punct or c.min_words_per_line is not None):
            return None
        if hits & _BIT["long_word"] and any(len(w) > c.max_word_length for w in line.split()):
            return "c4_long_word"
        if width <= c.max_notice_width:
            # A rule's bit is in `hits` only when the rule is on and its trigger words are in the line.
            for b, reason, family in _NOTICES:
                if hits & b and family.regex.search(line):
                    return reason
            if hits & _BIT["crumb"] and self._is_breadcrumb(line):  # its last item, the page title, may be wide
                return "breadcrumb"
        if width <= c.max_ui_width and not _CJK_PROSE.search(line):
            reason = self._ui_reason(line, hits)
            if reason:
                return reason
        if hits & _BIT["seo"] and not _TABLE_ROW.match(line) and self._is_seo(line):
            return "seo_keywords"
        if c.require_terminal_punct and not ends_sentence(line):
            return "c4_no_terminal_punct"
        if c.min_words_per_line is not None and len(words(line)) < c.min_words_per_line:
            return "c4_too_few_words"
        return None

    def _ui_reason(self, line: str, hits: int) -> str | None:
        if hits & _BIT["meta"] and not (_META_START.match(line) or _META_END.match(line[::-1])):
            hits &= ~_BIT["meta"]
        for b, reason, family in _UI_WORDS:
            if hits & b and family.regex.search(line):
                return reason
        if hits & _BIT["label"] and self._is_label(line):
            return "ui_label"
        if not hits & _BIT["nav"] or _TABLE_ROW.match(line):  # a table row is data, not a menu
            return None
        if self._is_nav(line) or self._is_cjk_list(line, 2 * self.cfg.nav_min_items, 8):
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

    def _related(self, stripped: list[str], widths: dict[int, int], idx: list[int], found: list[int], short: list[bool],
                 reasons: list[str | None]) -> None:
        """A "Related articles" heading and the short lines (titles) right after it; `found`: the
        lines holding RELATED's trigger words."""
        if not found:
            return
        pos = {i: k for k, i in enumerate(idx)}
        for i in sorted(found):
            k = pos.get(i)
            if k is None or not short[k] or widths[i] > self.cfg.max_ui_width or not RELATED.regex.search(stripped[i]):
                continue
            reasons[i] = reasons[i] or "related_links"
            j = k + 1
            while j < len(idx) and short[j]:
                reasons[idx[j]] = reasons[idx[j]] or "related_links"
                j += 1

    def _link_lists(self, lines: list[str], stripped: list[str], idx: list[int], short: list[bool],
                    reasons: list[str | None]) -> None:
        c = self.cfg
        paras = [p for p, is_short in enumerate(short) if not is_short]
        if sum(len(stripped[idx[p]]) for p in paras) < c.link_list_min_article_chars:
            return  # verse, lyrics, a blog post in short lines: lists cannot be told from content
        first, last = paras[0], paras[-1]
        runs = [(k, j) for k, j in self._runs(short) if j - k >= c.link_list_min_lines and (
            first > k or last < k  # no paragraph before it, or none after it
            or (c.link_list_inner_lines is not None and j - k >= c.link_list_inner_lines))]
        if not runs:
            return
        # content_words of the paragraphs joined: no word or CJK run crosses a newline.
        article = content_words("\n".join([lines[idx[p]] for p in paras]))
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
