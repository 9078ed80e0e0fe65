"""Each rule on tiny inline texts, in English and Chinese, checking the reason string (no Ray)."""

from __future__ import annotations

import pytest

from filters.base import FilterDoc
from filters.heuristics import C4Filter, FineWebFilter, GopherQualityFilter, GopherRepetitionFilter
from filters.pii import PiiScrubber
from filters.text import display_width, words

EN = ("The history of the city goes back to the Roman period, when a small settlement was built on the river "
      "bank. Over the centuries it grew into a trading town with a busy market and a large church.\n"
      "In the Middle Ages the town was surrounded by walls, and parts of them can still be seen today. The old "
      "bridge was rebuilt several times after floods destroyed it.\n"
      "Today the city is known for its university, which was founded in the fifteenth century and has produced "
      "many scholars. Visitors come to see the cathedral and the museums that line the main square.")
ZH = ("北京是中华人民共和国的首都，也是全国的政治、文化和国际交往中心。这座城市有着三千多年的建城史和八百多年的建都史，"
      "拥有众多的历史遗迹和文化遗产。\n"
      "故宫位于北京市中心，是明清两代的皇家宫殿，也是世界上现存规模最大、保存最为完整的木质结构古建筑之一。"
      "每年都有大量的游客来这里参观。\n"
      "除了历史古迹以外，北京还是一座现代化的国际大都市。近年来，城市的交通、教育和科技产业发展迅速，"
      "吸引了来自世界各地的人才。许多大学和研究机构也坐落在这里。")
ZH_LINKS = "\n".join(["首页", "新闻中心", "体育", "娱乐八卦", "免费下载", "点击进入", "热门推荐", "立即购买", "联系我们",
                      "关于我们", "网站地图", "友情链接", "手机版", "会员登录", "注册", "广告服务", "招聘信息", "客服中心",
                      "意见反馈", "版权声明", "隐私保护", "帮助中心", "合作伙伴", "返回顶部"])


def doc(text: str, domain: str = "web", lang: str | None = None) -> FilterDoc:
    d = FilterDoc("d1", "src", domain, text)
    d.lang = lang
    return d


def verdict(f, text: str, lang: str | None = None):
    return f.keep(doc(text, lang=lang))


ALL_DOC_FILTERS = [C4Filter, GopherQualityFilter, GopherRepetitionFilter, FineWebFilter]


@pytest.mark.parametrize("cls", ALL_DOC_FILTERS)
@pytest.mark.parametrize("text,lang", [(EN, "en"), (ZH, "zh")])
def test_good_articles_pass_every_rule(cls, text, lang):
    assert cls().keep(doc(text, lang=lang)) is True


def test_chinese_words_are_characters():
    assert len(words(ZH)) > 150  # a whitespace split would give 3 "words" and gopher_short_doc
    assert words("中文 text, 好！") == ["中", "文", "text,", "好"]
    assert display_width("中文ab") == 6


# -- Gopher quality ------------------------------------------------------------------------------

@pytest.mark.parametrize("text,reason,kw", [
    ("A short note about the city and the river.", "gopher_short_doc", {}),
    ("今天天气很好，我们去公园散步了。", "gopher_short_doc", {}),
    (EN, "gopher_long_doc", {"max_doc_words": 50}),
    (ZH, "gopher_long_doc", {"max_doc_words": 100}),
    (" ".join(["a an to of is it in on by at"] * 10), "gopher_below_avg_word_length", {}),
    (" ".join(["internationalization institutionalization"] * 30), "gopher_above_avg_word_length", {}),
    (EN + " #tag" * 20, "gopher_too_many_symbols", {}),
    ("\n".join(f"• item number {i} of the list with the words that go with it" for i in range(20)),
     "gopher_too_many_bullets", {}),
    ("\n".join(f"And then the story of the town went on and on {i}..." for i in range(20)),
     "gopher_too_many_end_ellipsis", {}),
    (" ".join(f"{1000 + i} {20000 + i} {30000 + i} {40000 + i} the" for i in range(40)),
     "gopher_below_alpha_threshold", {}),
    (" ".join(["lorem dolor sit amet consectetur adipiscing elit sed do eiusmod tempor"] * 6),
     "gopher_enough_stop_words", {}),
    ("。".join(["北京上海广州深圳天津重庆南京杭州"] * 8) + "。", "gopher_enough_stop_words", {}),
])
def test_gopher_quality_reasons(text, reason, kw):
    assert GopherQualityFilter(**kw).keep(doc(text)) == (False, reason)


def test_null_threshold_switches_a_rule_off():
    short = "A short note about the city and the river."
    assert GopherQualityFilter().keep(doc(short)) == (False, "gopher_short_doc")
    assert GopherQualityFilter(min_doc_words=None).keep(doc(short)) is True


# -- Gopher repetition ---------------------------------------------------------------------------

@pytest.mark.parametrize("text,reason", [
    ("\n\n".join(["Buy cheap watches online today with free shipping."] * 4 + [EN]), "gopher_dup_para_frac"),
    ("\n".join(["Subscribe to our channel for more videos every week."] * 5 + EN.split("\n")), "gopher_dup_line_frac"),
    ("\n".join(["免费下载最新电影，点击这里立即观看高清版本。"] * 5 + ZH.split("\n")), "gopher_dup_line_frac"),
    (" ".join(["the best deal"] * 60), "gopher_top_2_gram"),
    (EN + " " + EN[:400], "gopher_dup_5_gram"),
    (ZH + ZH[:120], "gopher_dup_5_gram"),
])
def test_gopher_repetition_reasons(text, reason):
    assert GopherRepetitionFilter().keep(doc(text)) == (False, reason)


def test_chinese_ngrams_are_scaled():
    # Bigrams of characters in a normal Chinese text are common; with n scaled to 4 characters the
    # article passes, and a page repeating one slogan is still caught.
    spam = "".join(["点击购买"] * 80)
    assert GopherRepetitionFilter(dup_line_frac=None).keep(doc(spam, lang="zh"))[1].startswith("gopher_top_")
    assert GopherRepetitionFilter().keep(doc(ZH, lang="zh")) is True


# -- C4 -------------------------------------------------------------------------------------------

def test_c4_document_reasons():
    assert C4Filter().keep(doc(EN + "\nLorem ipsum dolor sit amet.")) == (False, "c4_lorem_ipsum")
    assert C4Filter(curly_bracket=True).keep(doc(EN + " function() { return 1; }")) == (False, "c4_curly_bracket")
    assert C4Filter().keep(doc(EN.replace("{", ""))) is True
    assert C4Filter().keep(doc("One sentence. Two sentences.")) == (False, "c4_too_few_sentences")
    assert C4Filter().keep(doc("今天下雨了。我们在家。")) == (False, "c4_too_few_sentences")
    assert C4Filter().keep(doc("今天下雨了。我们在家看书。晚上一起做饭！")) is True


# -- FineWeb --------------------------------------------------------------------------------------

def test_fineweb_reasons_english_and_chinese():
    nav = "\n".join(["Home", "News", "Sports", "Weather", "Contact us", "About"] * 2 + [EN])
    assert FineWebFilter(min_line_punct_ratio=None).keep(doc(nav)) == (False, "fineweb_short_line_ratio")
    assert FineWebFilter().keep(doc(ZH_LINKS)) == (False, "fineweb_line_punct_ratio")
    assert FineWebFilter(min_line_punct_ratio=None).keep(doc(ZH_LINKS)) == (False, "fineweb_short_line_ratio")
    dup = "\n".join(EN.split("\n") + [EN.split("\n")[0]])
    assert FineWebFilter().keep(doc(dup)) == (False, "fineweb_char_dup_ratio")
    listy = "\n".join(f"Item {i}." for i in range(30))
    assert FineWebFilter(max_short_line_ratio=None).keep(doc(listy)) == (False, "fineweb_list_ratio")


def test_chinese_sentence_lines_are_not_short():
    # 15 Chinese characters are 30 columns wide: a real sentence line is not a "short line".
    lines = "\n".join(["我们今天在图书馆里读了很多有意思的书。"] * 1 + ZH.split("\n"))
    assert FineWebFilter().keep(doc(lines)) is True


# -- PII ------------------------------------------------------------------------------------------

def test_pii_placeholders_and_counts():
    f = PiiScrubber()
    text = ("Contact john.doe@example.com or +1 555-123-4567. Server 8.8.8.8, gateway 192.168.0.1, "
            "localhost 127.0.0.1, v1.2.3.4.5, id 20210512, on 2021-05-12 at 12:30:45, dns 2001:4860:4860::8888.")
    out = f.apply(doc(text))
    assert out == ("Contact <EMAIL> or <PHONE>. Server <IP_ADDRESS>, gateway 192.168.0.1, localhost 127.0.0.1, "
                   "v1.2.3.4.5, id 20210512, on 2021-05-12 at 12:30:45, dns <IP_ADDRESS>.")
    assert f.counters == {"pii:email": 1, "pii:phone": 1, "pii:ip": 2}
    zh = PiiScrubber().apply(doc("请发邮件到 wang@example.cn 或致电 (010) 6552-1234。"))
    assert zh == "请发邮件到 <EMAIL> 或致电 <PHONE>。"


def test_pii_kinds_can_be_switched_off():
    f = PiiScrubber(phone=None, email="[email]")
    assert f.apply(doc("a@b.org +1 555-123-4567")) == "[email] +1 555-123-4567"


# -- the fast paths of filters/text.py and the n-grams: equal to their definitions ------------------

def _random_strings(n: int, seed: int = 0) -> list[str]:
    """Seeded random strings over every plane: letters, digits, CJK and its punctuation, symbols,
    spaces of every kind, astral characters and lone surrogates."""
    import random

    rng = random.Random(seed)
    pool = [chr(c) for c in range(0x110000) if rng.random() < 0.002 and c != 0]
    pool += list(" \t\n\x1c\x85\xa0\u3000.,!?-—«»「」。、・゠あア中ab1_#…'\"$+²½Ⅻ々゛😀\ud800") * 20
    return [''.join(rng.choice(pool) for _ in range(rng.randint(0, 14))) for _ in range(n)]


def test_words_widths_and_counts_equal_their_definitions():
    import unicodedata

    from filters.text import _TOKEN, _is_punct, alpha_word_count, cjk_word_count, is_bmp, is_cjk_word

    for s in _random_strings(8000) + [EN, ZH, ZH_LINKS]:
        ws = [t for t in _TOKEN.findall(s) if not _is_punct(t)]
        assert words(s) == ws, repr(s)
        assert display_width(s) == sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s), repr(s)
        assert alpha_word_count(ws, s) == sum(any(c.isalpha() for c in w) for w in ws), repr(s)
        assert cjk_word_count(s) == sum(map(is_cjk_word, ws)), repr(s)
        assert is_bmp(s) == all(ord(c) < 0x10000 for c in s), repr(s)


def test_repeated_ngrams_are_those_of_every_position():
    import random
    from collections import Counter

    from filters.heuristics import _Grams, _dup_ngram_share

    rng = random.Random(0)
    for _ in range(300):
        ws = [f"w{rng.randint(0, rng.choice([2, 5, 50]))}" for _ in range(rng.choice([0, 3, 12, 60, 400]))]
        if len(ws) > 30:  # a planted repeat
            k, a, b = 12, rng.randrange(len(ws) - 12), rng.randrange(len(ws) - 12)
            ws[b:b + k] = ws[a:a + k]
        grams = _Grams(ws)
        for n in rng.sample(range(1, 16), 15):
            grams_n = [tuple(ws[i:i + n]) for i in range(len(ws) - n + 1)]
            pos, ids = grams.repeated(n)
            counts = Counter(grams_n)
            assert pos.tolist() == [i for i, g in enumerate(grams_n) if counts[g] > 1]
            assert len({(grams_n[p], g) for p, g in zip(pos.tolist(), ids.tolist())}) == len(set(ids.tolist()))
            # The share by the definition: repeats counted once, then skipped over, by tuples.
            seen, dup, i = set(), 0, 0
            while i < len(grams_n):
                if grams_n[i] in seen:
                    dup += sum(map(len, grams_n[i]))
                    i += n
                else:
                    seen.add(grams_n[i])
                    i += 1
            assert _dup_ngram_share(grams, n, 1000) == dup / 1000
