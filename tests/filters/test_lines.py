"""Line cleaning of web text (filters/lines.py): each rule and its switch on small synthetic
snippets (labelled as such), then real pages of the real-data set (`make real`) through grist's
default extractor: article text kept, boilerplate removed, against C4's line rules."""

from __future__ import annotations

import statistics

import pytest

from benchmarks.bench_real_web import C4_LINES, extract_page, has, measure, squash, summary, zh_figures
from data.real.realset import ensure_built, web_pages, zh_texts
from filters.base import FilterDoc, run_rules
from filters.heuristics import FineWebFilter
from filters.lines import LineCleaner
from filters.stage import FILTERS
from pipelines.config import ReadConfig

# Synthetic paragraphs (written for these tests) around the line under test, so that it is judged
# between two paragraphs as in an article.
EN_A = ("The old bridge was rebuilt several times after floods destroyed it, and the town paid for the work "
        "with a toll on every cart that crossed the river.")
EN_B = ("Today the city is known for its university, which was founded in the fifteenth century and has "
        "produced many scholars who wrote about the history of the region.")
ZH_P1 = ("北京是中华人民共和国的首都，也是全国的政治、文化和国际交往中心。这座城市有着三千多年的建城史，"
         "拥有众多的历史遗迹和文化遗产")  # a paragraph ending in no mark
ZH_P2 = ("故宫位于北京市中心，是明清两代的皇家宫殿，也是世界上现存规模最大、保存最为完整的木质结构古建筑之一。"
         "每年都有大量的游客来这里参观：")


def clean(text: str, **cfg) -> tuple[str, LineCleaner]:
    f = LineCleaner(**cfg)
    return f.apply(FilterDoc("d", "src", "web", text)), f


def between(line: str) -> str:
    return "\n".join([EN_A, line, EN_B])


# (reason, switch that turns the rule off, synthetic line judged between two paragraphs)
OWN_TEXT_RULES = [
    ("copyright", {"copyright": False}, "© 2023 Example Media GmbH. All rights reserved."),
    ("copyright", {"copyright": False}, "版权所有 © 2008-2023 某某网络科技有限公司"),
    ("policy", {"policy": False}, "We use cookies to give you the best experience on our website. By continuing to "
                                  "browse the site you agree to our use of cookies."),
    ("policy", {"policy": False}, "Impressum · Datenschutz"),
    ("javascript", {"javascript": False}, "Please enable JavaScript in your browser to view this page."),
    ("login", {"login": False}, "Anmelden oder registrieren"),
    ("login", {"login": False}, "会员登录 | 免费注册"),
    ("share", {"share": False}, "Share on Facebook"),
    ("share", {"share": False}, "分享到：微信 微博 QQ空间"),
    ("read_more", {"read_more": False}, "Weiterlesen »"),
    ("read_more", {"read_more": False}, "阅读全文"),
    ("promo", {"promo": False}, "淘宝搜:【红包到手500】"),
    ("promo", {"promo": False}, "Subscribe to our newsletter and never miss a story."),
    ("meta", {"meta": False}, "Von Anna Schmidt | 12. März 2021"),
    ("meta", {"meta": False}, "4 min read"),
    ("ui_label", {"ui_label": False}, "Advertisement"),
    ("ui_label", {"ui_label": False}, "上一篇：北京的春天"),
    ("nav", {"nav_min_items": None}, "Home | News | Sport"),
    ("breadcrumb", {"breadcrumb": False}, "Startseite > Politik > Ausland"),
    ("seo_keywords", {"seo_min_keywords": None}, "高清电影_电视剧大全_综艺节目_动漫_在线观看"),
    ("seo_keywords", {"seo_min_keywords": None}, "【正品】【特价】【热卖】【新款】羽绒服"),
]


@pytest.mark.parametrize("reason,off,line", OWN_TEXT_RULES, ids=[f"{r}-{i}" for i, (r, _, _) in enumerate(OWN_TEXT_RULES)])
def test_each_rule_removes_its_line_and_its_switch_turns_it_off(reason, off, line):
    text, f = clean(between(line))
    assert text == f"{EN_A}\n{EN_B}"
    assert f.counters == {f"lines_removed:{reason}": 1, "docs_with_lines_removed": 1}
    text, f = clean(between(line), **off)
    assert text == between(line) and not f.counters


def test_related_links_heading_and_its_titles():
    related = ["Auch interessant:", "- 14 Tipps für mehr Follower", "- Die neun erfolgreichsten Tweets",
               "- So wird dein Feed wieder chronologisch"]
    text = "\n".join([EN_A, *related, EN_B])
    out, f = clean(text)
    assert out == f"{EN_A}\n{EN_B}" and f.counters["lines_removed:related_links"] == 4
    # Off, the same lines between two paragraphs are an article's list and stay.
    assert clean(text, related_links=False)[0] == text


def test_link_list_at_the_bottom_goes_a_list_inside_the_article_stays():
    # Synthetic: titles of unrelated pages after the last paragraph, as a sidebar leaves them.
    titles = ["Heizkosten sparen mit Thermostaten", "Akkuschrauber im Angebot bei Aldi", "Rauchmelder richtig montieren",
              "Gartenschere für hohe Hecken"]
    page = "\n".join([EN_A, EN_B, *titles])
    out, f = clean(page)
    assert out == f"{EN_A}\n{EN_B}" and f.counters["lines_removed:link_list"] == 4
    assert clean(page, link_list_min_lines=None)[0] == page
    # The same run between two paragraphs is content (a list in the article).
    inside = "\n".join([EN_A, *titles, EN_B])
    assert clean(inside)[0] == inside
    # ... unless it is very long (80 bullets of unrelated topics), or the switch says so; its last
    # line, before a paragraph, may be a heading and stays.
    assert clean(inside, link_list_inner_lines=4)[0] == "\n".join([EN_A, titles[-1], EN_B])


def test_a_list_sharing_the_pages_words_stays_at_the_bottom():
    # Synthetic: a closing list whose items repeat the article's words (a summary, ingredients).
    items = ["- the old bridge", "- the university", "- the scholars of the region"]
    page = "\n".join([EN_A, EN_B, *items])
    assert clean(page)[0] == page


def test_heading_kept_before_a_paragraph_and_keep_headings_switch():
    menu = ["Startseite", "Kontakt", "Über uns", "Geschichte der Stadt"]  # synthetic
    page = "\n".join([*menu, EN_A, EN_B])
    out, _ = clean(page)
    assert out == "\n".join(["Geschichte der Stadt", EN_A, EN_B])
    assert clean(page, keep_headings=False)[0] == f"{EN_A}\n{EN_B}"
    # A lone short line between paragraphs is a heading and stays.
    assert clean(between("Die Zeit nach dem Krieg"))[0] == between("Die Zeit nach dem Krieg")


def test_long_paragraph_ending_in_colon_or_nothing_is_kept():
    colon = ("In den Allgemeinen Bedingungen für die Versorgung mit Fernwärme, die seit vielen Jahren gelten, "
             "heißt es:")
    bare = "Und so endet dieser lange Absatz ohne jedes Satzzeichen am Ende, wie es im Netz oft vorkommt"
    page = "\n".join([EN_A, colon, EN_B, bare])
    assert clean(page)[0] == page
    # C4's rules delete both.
    assert clean(page, **C4_LINES)[0] == f"{EN_A}\n{EN_B}"


def test_chinese_headings_and_paragraphs_kept_spam_removed():
    # Synthetic Chinese page: headings, paragraphs ending in no mark or '：', and spam lines.
    article = ["一、城市概况", ZH_P1, "二、名胜古迹", ZH_P2]
    spam = ["淘宝搜:【红包到手500】", "点击领取优惠券", "热门推荐", "北京天气预报", "上海房价走势", "明星八卦新闻",
            "手机游戏下载"]
    out, f = clean("\n".join(article + spam))
    assert out == "\n".join(article)
    assert f.counters["lines_removed:promo"] == 2 and f.counters["lines_removed:related_links"] == 5


def test_c4_switches_reproduce_c4():
    text = "\n".join([EN_A, "Too short.", "No terminal punctuation here at all", EN_B])
    out, f = clean(text, require_terminal_punct=True, min_words_per_line=3)
    assert out == f"{EN_A}\n{EN_B}"
    assert f.counters["lines_removed:c4_no_terminal_punct"] == 1 and f.counters["lines_removed:c4_too_few_words"] == 1
    assert clean(text)[0] == text
    assert clean(between("x" * 30), max_word_length=20)[1].counters["lines_removed:c4_long_word"] == 1


def test_a_page_of_short_lines_only_is_left_to_the_document_rules():
    # Synthetic: nothing but short lines. Menu or verse, overlap cannot tell them apart without
    # paragraphs, so line cleaning keeps them; FineWeb's short-line rule judges the page.
    nav = "\n".join(["新闻中心", "体育频道", "娱乐八卦", "财经", "科技", "汽车"])
    verse = "\n".join(["床前明月光", "疑是地上霜", "举头望明月", "低头思故乡"])
    for text in (nav, verse):
        assert clean(text)[0] == text
    d = FilterDoc("d", "src", "web", nav)
    run_rules([LineCleaner(), FineWebFilter()], [d])
    assert d.reason == "fineweb_line_punct_ratio"


def test_stage_uses_the_line_cleaner():
    assert dict(FILTERS)["lines"] is LineCleaner


# -- real pages ---------------------------------------------------------------------------------

# Measured by benchmarks/bench_real_web.py on the 198 real pages: must-appear phrases lost to
# cleaning 0.0 points after resiliparse, 1.2 after grist's extractor (C4's rules: 20.8 / 25.3);
# gold lost median 0%, worst page with a full gold text 3.0%; boilerplate removed 83.4% -> 92.9%
# (resiliparse), 98.8% -> 99.2% (grist). Asserted with a margin: extractors and the set change.
MAX_MUST_LOST_POINTS = 3.0
MAX_MEDIAN_GOLD_LOSS = 3.0
MIN_BOILERPLATE_REMOVED = 90.0


@pytest.fixture(scope="module")
def real():
    ensure_built()
    pages = web_pages()
    extractor = ReadConfig().extractor
    texts = {p["name"]: extract_page(p, extractor) for p in pages}
    return pages, texts


def test_real_pages_article_kept_boilerplate_removed(real):
    pages, texts = real
    s = summary(measure(pages, "", texts=texts))
    c4 = summary(measure(pages, "", C4_LINES, texts=texts))
    assert s["must_extracted"] - s["must_cleaned"] <= MAX_MUST_LOST_POINTS
    assert s["median_loss"] <= MAX_MEDIAN_GOLD_LOSS
    assert s["boilerplate_removed"] >= MIN_BOILERPLATE_REMOVED
    assert s["boilerplate_removed"] >= s["boilerplate_extracted"]
    # C4's rules lose far more article text than they gain in boilerplate.
    assert c4["must_cleaned"] <= s["must_cleaned"] - 15


def test_real_paragraphs_ending_in_colon_are_kept(real):
    pages, texts = real
    f = LineCleaner()
    long_colon = [(ln, r) for t in texts.values()
                  for ln, r in zip(t.split("\n"), f.line_reasons(t.split("\n")))
                  if ln.strip().endswith(":") and len(ln.strip()) >= 100]
    assert len(long_colon) >= 10
    assert [ln for ln, r in long_colon if r] == []


def test_real_german_article_kept(real):
    """bmjv.de's consumer page: its article (with the paragraph ending in 'heißt es:', which C4's
    rules deleted) stays whole; its sidebar of related law links goes."""
    pages, texts = real
    page = next(p for p in pages if p["name"] == "trafilatura-bmjv.de.konsum")
    text = texts[page["name"]]
    out, f = clean(text)
    heisst = next(ln.strip() for ln in text.split("\n") if ln.strip().endswith("heißt es:"))
    assert heisst in out
    paragraphs = [ln.strip() for ln in text.split("\n") if len(ln.strip()) >= 100]
    assert len(paragraphs) >= 5 and all(p in out for p in paragraphs)
    assert all(has(squash(out), m) for m in page["must"] if has(squash(text), m))
    assert not has(squash(clean(text, **C4_LINES)[0]), heisst)


def test_real_pages_every_removal_is_named(real):
    pages, texts = real
    results = measure(pages, "", texts=texts)
    removed = sum((r.removed for r in results), start=type(results[0].removed)())
    reasons = {k.removeprefix("lines_removed:") for k in removed if k.startswith("lines_removed:")}
    # The rules that real pages exercise (measured: all of these fire on the 108 pages).
    assert {"copyright", "policy", "read_more", "promo", "meta", "ui_label", "breadcrumb", "related_links",
            "link_list"} <= reasons
    cut = [1 - len(r.cleaned) / len(r.extracted) for r in results if r.extracted.strip()]
    assert statistics.median(cut) < 0.05


# -- real Chinese texts (web/zh, as a domain: web jsonl source) ------------------------------------

@pytest.fixture(scope="module")
def zh():
    ensure_built()
    rows = zh_texts()
    return {o: [r for r in rows if r["origin"].startswith(o)] for o in ("gne", "chardet", "fortunes")}


def test_real_chinese_pages_menus_and_spam_removed_prose_kept(zh):
    """gne's test pages: whole Chinese news pages as text, menus, share bars, comment widgets,
    recommendation lists and a 22993-item SEO keyword line around the article. Measured: prose
    kept 99.8% (C4's rules: 94.8%), menu-sized lines removed 77%, characters kept 45%."""
    f = zh_figures(zh["gne"])
    assert f["prose_kept"] >= 99.5 and f["worst_prose_loss"] <= 5
    assert f["tiny_removed"] >= 70 and f["chars_kept"] <= 60
    assert {"link_list", "share", "promo", "related_links", "ui_label", "seo_keywords"} <= set(f["removed"])


def _reasons(row: dict) -> dict[str, str | None]:
    lines = row["text"].split("\n")
    return {ln.strip(): r for ln, r in zip(lines, LineCleaner().line_reasons(lines)) if ln.strip()}


def test_real_chinese_news_page_headings_kept_navigation_removed(zh):
    page = _reasons(next(r for r in zh["gne"] if r["id"] == "gne/tests/163/1.html"))
    for heading in ("业绩会突现业主维权插曲", "昔日“龙湖质量”遭质疑", "狂奔之下的“暗伤”曝露？"):
        assert page[heading] is None
    assert all(r is None for ln, r in page.items() if "龙湖" in ln and "。" in ln)  # the article's paragraphs
    for item in ("网易首页", "国际足球", "北京房产", "888元现金券", "一卡通充值"):  # the top menu
        assert page[item] == "link_list"
    assert page["分享到："] == "share" and page["网易首页 > 财经频道 > 正文"] == "breadcrumb"


def test_real_chinese_seo_keyword_line_removed(zh):
    page = _reasons(next(r for r in zh["gne"] if r["id"] == "gne/tests/njxfhn/1.html"))
    spam = next(ln for ln in page if ln.startswith("邓朴方潜逃 第92号红通自首"))
    assert len(spam) > 100_000 and page[spam] == "seo_keywords"
    assert page["友情链接"] == "related_links"


def test_real_chinese_prose_and_verse_kept(zh):
    """Blog feed items (chardet's test feeds, some written in short lines without punctuation)
    and fortunes-zh (classical verse, essays, a manual): C4's rules drop a third of their prose."""
    for origin in ("chardet", "fortunes"):
        f = zh_figures(zh[origin])
        c4 = zh_figures(zh[origin], C4_LINES)
        assert f["prose_kept"] >= 99.9 and f["chars_kept"] >= 97, origin
        assert c4["prose_kept"] <= 70, origin


# -- prefilters (LineCleaner.hits): every line a rule removes is found by its prefilter -------------

def test_whitespace_class_is_str_isspace():
    """The prefilters rely on `\\s` matching exactly what str.strip / str.split remove."""
    import re

    space = re.compile(r"\s")
    assert [cp for cp in range(0x110000) if bool(space.match(chr(cp))) != chr(cp).isspace()] == []


def _tricky_lines(n: int, seed: int = 0) -> list[str]:
    """Synthetic lines (written for this test) built from trigger words, rule shapes and characters
    whose case mapping or class is unusual (İ, ſ, K, Σ, full-width space, astral, CJK punctuation)."""
    import random

    from filters.line_patterns import UI_LABELS

    parts = ["Share on Facebook", "email this", "follow us", "Read more »", "view all", "Weiterlesen", "阅读全文",
             "Log in", "Sign up", "Impressum", "© 2020", "All rights reserved", "We use cookies on this site",
             "Please enable JavaScript", "Subscribe to our newsletter", "Related articles", "相关阅读", "查看更多 >",
             "Home > News > World", "Home | News | Sport", "a_b_c_d", "【x】【y】【z】【w】", "电影 下载 免费 高清 最新 在线 观看",
             "上一篇：", "Next post:", "vor 3 Minuten", "2 hours ago", "3 小时前", "12:30 pm", "12:30 Uhr",
             "2021年3月4日", "责任编辑：", "阅读 123", "Posted on March 3, 2021", "By John | 12.03.2021", "5 Kommentare",
             "12 replies", "12 条评论", "Reading time: 5", "Tags:", "| a | b |", "x" * 30, "y" * 1001, "326", "• • •",
             "the river and the bridge", "版权所有", "İ", "ſ", "\u212a", "Σ", "ı", "\u3000", "\xa0", "\t", "\x1c",
             "😀", "・", "—", " ", ".", ",", "!"] + sorted(UI_LABELS)
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        line = "".join(rng.choice(parts) + rng.choice(["", " ", " | ", ": "]) for _ in range(rng.randint(1, 4)))
        out.append(line.upper() if rng.random() < 0.2 else line)
    return out


@pytest.mark.parametrize("cfg", [{}, {"nav_min_items": 2, "seo_min_keywords": 2, "max_word_length": 20}])
def test_prefilters_find_every_line_a_rule_would_remove(cfg):
    from filters.line_patterns import (COOKIE_NOTICE, COPYRIGHT, JAVASCRIPT, LOGIN, META, MORE_LINK_END, NEWSLETTER,
                                       POLICY, PROMO, READ_MORE, RELATED, SHARE)
    from filters.lines import _BIT, _META_END, _META_START

    f = LineCleaner(**cfg)
    c = f.cfg
    families = {"copyright": COPYRIGHT, "cookie": COOKIE_NOTICE, "javascript": JAVASCRIPT, "newsletter": NEWSLETTER,
                "more_end": MORE_LINK_END, "policy": POLICY, "login": LOGIN, "share": SHARE, "read_more": READ_MORE,
                "promo": PROMO, "meta": META, "related": RELATED}
    lines = _tricky_lines(3000)
    text_hits = f.hits(lines)  # the whole text at once, as the cleaner scans it
    found = {k: 0 for k in families}
    for i, raw in enumerate(lines):
        line = raw.strip()
        if not line:
            continue
        hits = f.hits([raw]).get(0, 0)
        assert hits == text_hits.get(i, 0), raw
        for key, family in families.items():
            if family.search(line, line.lower()):  # the rule's own test: trigger word and regex
                found[key] += 1
                assert hits & _BIT[key], (key, raw)
                if key == "meta":
                    assert _META_START.match(line) or _META_END.match(line[::-1]), raw
        checks = {"label": f._is_label(line), "crumb": f._is_breadcrumb(line), "seo": f._is_seo(line),
                  "nav": f._is_nav(line) or f._is_cjk_list(line, 2 * c.nav_min_items, 8),
                  "long_word": any(len(w) > c.max_word_length for w in line.split())}
        for key, fires in checks.items():
            assert not fires or hits & _BIT[key], (key, raw)
    assert min(found.values()) > 0, found  # every family was exercised
