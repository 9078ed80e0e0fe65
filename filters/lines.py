"""Line cleaning for web text: boilerplate lines out, article lines in, judged in context.

C4's rules (drop every line without terminal punctuation or with fewer than 3 words) delete
headings, lists, paragraphs ending in ':' and Chinese lines ending in no mark. Here a line is
removed only for a named reason (`lines_removed:REASON`):

- its own text, when the line is short enough to be interface rather than prose: `copyright`,
  `policy` (cookies, privacy, terms, imprint), `javascript`, `login`, `share`, `read_more`,
  `promo` (subscribe, click here, 点击, 红包, `淘宝搜:【...】`), `meta` (bylines, dates, comment
  counts, reading time), `ui_label` (a lone "Advertisement", "Drucken", "返回顶部"), `nav`
  (`Home | News | Sport`), `breadcrumb` (`Home > News > World`), `seo_keywords` (keywords
  stuffed between | _ 、 or in 【】);
- its context: `related_links`, a "Related articles" / "Auch interessant:" / "相关阅读" heading
  and the short lines after it; `link_list`, a run of short lines at the page's top or bottom (no
  paragraph before it, or none after it) whose words the rest of the page does not share, as
  menus, footers and lists of unrelated titles are, or such a run anywhere once it is very long
  (80 `•` link lines). Lists inside an article (ingredients, tips, code, lyrics) sit between
  paragraphs or share the page's words, and stay; so do headings and captions.

Extractors already drop most menus; what reaches this step is mostly article text with a few
leftovers, so every rule is narrow. Widths are display widths (a CJK character counts 2), so one
threshold fits English, German and Chinese. Every rule is a switch in `LinesConfig`; C4's own
line rules are there too, off by default. Measured in benchmarks/bench_real_web.py.
"""

from __future__ import annotations

import re

from filters.base import FilterDoc, Transform
from filters.config import LinesConfig
from filters.text import CJK_RANGES, display_width, ends_sentence, words


def _any(*patterns: str) -> re.Pattern:
    return re.compile("|".join(patterns), re.IGNORECASE)


class _Words:
    """A regex of many alternatives, tried only on lines holding one of its trigger strings (in
    lower case): most lines hold none, and one scan for plain strings is cheaper than the search
    (measured on the real set's 6400 texts: the whole cleaner 1.3x faster)."""

    def __init__(self, triggers: str, *patterns: str):
        self.trigger = re.compile("|".join(map(re.escape, triggers.split("|"))))
        self.regex = _any(*patterns)

    def search(self, line: str, low: str) -> bool:
        return self.trigger.search(low) is not None and self.regex.search(line) is not None


COPYRIGHT = _Words(
    "©|&copy|(c)|copyright|rights reserved|rechte vorbehalten|droits réservés|derechos reservados|版权|版權|保留所有|"
    "转载|無断転載",
    r"©", r"&copy;", r"\(c\)\s*(19|20)\d\d", r"\bcopyright\s*(©|\(c\)|(19|20)\d\d|by\b)", r"\ball rights reserved\b",
    r"\balle rechte vorbehalten\b", r"\btous droits réservés\b", r"\btodos los derechos reservados\b", r"版权所有",
    r"版權所有", r"保留所有权利", r"未经授权.{0,8}转载", r"禁止转载", r"無断転載")
# Cookie notices run to a few sentences: they are recognised up to max_notice_width by what they say.
COOKIE_NOTICE = _Words(
    "cookie|by continuing|by using",
    r"\b(we|this (web)?site|our (web)?site|wir|diese (web)?seite|diese website)\b.{0,40}\b(use|uses|using|"
    r"verwende[nt]?|nutz(en|t)|setz(en|t)|einsetzen)\b.{0,20}\bcookies\b",
    r"\bcookies?[- ]?(policy|settings|preferences|consent|banner|richtlinie|einstellungen|hinweis)",
    r"\b(accept|akzeptieren|zustimmen|allow)\b.{0,20}\bcookies\b",
    r"\bby (continuing|using)\b.{0,60}\byou (agree|accept|consent)\b", r"本网站使用\s*cookies?", r"我们使用\s*cookies?")
# A wide line ending in a "more" link is a teaser or a product shelf ("... > 查看更多").
MORE_LINK_END = _Words(
    "更多|more|mehr|weiterlesen",
    r"[>»›]\s*(查看更多|更多|more|mehr)\s*[>»›]*\s*$", r"(查看更多|更多|read more|weiterlesen)\s*[>»›]+\s*$")
# A call to subscribe runs to a sentence or two as well.
NEWSLETTER = _Words(
    "newsletter|订阅",
    r"\b(subscribe to|sign up for|abonnieren sie|melden sie sich)\b.{0,60}\bnewsletter",
    r"\bnewsletter\b.{0,40}\b(abonnieren|subscribe|sign up)\b", r"订阅.{0,10}(邮件|newsletter|推送)")
# A short line that names a policy page is a footer link.
POLICY = _Words(
    "privacy|terms|datenschutz|nutzungsbedingungen|impressum|mentions légales|隐私|条款|协议|免责|利用規約|プライバシー",
    r"\bprivacy\s+(policy|statement|notice|settings)\b", r"\bterms\s+(of\s+(use|service)|and\s+conditions)\b",
    r"\bdatenschutz(erklärung|hinweise|richtlinie|einstellungen|bestimmungen)?\b", r"\bnutzungsbedingungen\b",
    r"\bimpressum\b", r"\bmentions légales\b", r"隐私政策", r"隐私条款", r"隐私保护", r"使用条款", r"服务条款", r"用户协议",
    r"免责声明", r"利用規約", r"プライバシーポリシー")
JAVASCRIPT = _Words(
    "javascript",
    r"\bjavascript\b.{0,60}\b(enable|enabled|disabled|turn(ed)? on|activate|aktivier|deaktiviert|required|requires|"
    r"einschalten)", r"\b(enable|activate|turn on|requires?|aktivieren sie)\b.{0,40}\bjavascript\b",
    r"(启用|开启|打开|禁用|需要|支持)\s*javascript", r"javascript\s*(已禁用|被禁用)")
LOGIN = _Words(
    "log|sign|regist|account|password|anmeld|einlog|auslog|abmeld|passwort|konto|登录|登陆|注册|密码|会员中心|ログイン",
    r"\b(log\s?-?in|sign\s?-?in|sign\s?-?up|log\s?-?out|sign\s?-?out)\b",
    r"^\W*register\W*$|\bregister\s+(now|here|for free|today)\b", r"\bcreate\s+(an|your|a free)\s+account\b",
    r"\bforgot\s+(your\s+)?password\b", r"\bmy account\b", r"\b(anmelden|einloggen|ausloggen|abmelden|registrieren)\b",
    r"\bpasswort vergessen\b", r"\bmein konto\b", r"登录", r"登陆", r"立即注册", r"免费注册", r"注册账号", r"会员注册",
    r"用户注册", r"注册\s*[|/｜]", r"[|/｜]\s*注册", r"忘记密码", r"会员中心", r"ログイン")
_NETWORKS = "facebook|twitter|linkedin|pinterest|reddit|whatsapp|xing|telegram|tumblr|weibo|微博|微信|qq空间|豆瓣"
SHARE = _Words(
    "share|pin it|this|follow|keep up|folgen|teilen|weiterempfehlen|分享|转发|关注|" + _NETWORKS,
    r"\bshare\s+(on|this|via|to|with|article|story|post|page)\b", r"^\W*share\s*(:|$)", r"\bpin it\b",
    r"\b(e-?mail|print|send)\s+this\b", r"\bfollow (us|me)\b", r"\bkeep up with (me|us)\b", r"\bfolgen sie uns\b",
    r"\bteilen\s+(auf|per|via|mit)\b", r"\bweiterempfehlen\b", r"^\W*(artikel\s+)?teilen\b",
    rf"({_NETWORKS}).{{0,30}}({_NETWORKS})", r"分享到", r"分享至", r"一键分享", r"转发到", r"扫一扫分享", r"关注我们")
READ_MORE = _Words(
    "read|more|learn|view|see|load|show|weiter|mehr|lade|erfahre|zum artikel|阅读|查看|更多|展开|继续|加载",
    r"\bread\s+more\b", r"\bcontinue\s+reading\b", r"\bread\s+the\s+full\b", r"\bmore\s*[»›>]", r"\blearn\s+more\b",
    r"\b(view|see|load|show)\s+(more|all)\b", r"\bweiterlesen\b", r"\bmehr\s+(lesen|erfahren|anzeigen)\b",
    r"\bweiter\s*[»›>]", r"\b(lade|load)\s+(weitere|more)\b", r"\berfahre mehr\b", r"阅读全文", r"阅读更多", r"查看更多",
    r"查看全文", r"更多\s*[>»›]", r"展开全文", r"点击查看", r"继续阅读", r"全文阅读", r"加载更多")
PROMO = _Words(
    "click|subscribe|newsletter|download|buy now|klick|abonnier|jetzt|vorteile|up to date|up-to-date|bleiben sie|"
    "点击|领取|红包|优惠|扫码|扫一扫|微信|公众号|qq群|淘宝|京东|返利|免费领|包邮|下载|订阅|搜",
    r"\bclick\s+here\b", r"\bsubscribe\b", r"\bnewsletter\b", r"\bdownload\s+(now|the app|our app|free)\b",
    r"\bbuy\s+now\b", r"\b(hier|jetzt)\s+klicken\b", r"\bklicken\s+sie\s+hier\b", r"\babonnier",
    r"\bjetzt\s+(kaufen|bestellen|herunterladen|anmelden|sichern)\b", r"\bvorteile sichern\b",
    r"\bstay up[- ]to[- ]date\b", r"\bbleiben sie (auf dem laufenden|informiert)\b", r"点击", r"领取", r"红包", r"优惠券",
    r"优惠码", r"扫码", r"扫一扫", r"加微信", r"微信号", r"公众号", r"qq群", r"淘宝搜", r"京东搜", r"返利", r"免费领",
    r"包邮", r"立即下载", r"免费下载", r"下载app", r"订阅", r"(?<![\w])搜\s*[:：]")
_MONTHS = (r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?|(januar|februar|märz|april|mai|juni|juli|"
           r"august|september|oktober|november|dezember)")
_DATE = (rf"(\d{{1,4}}[./-]\d{{1,2}}[./-]\d{{1,4}}|\d{{1,2}}\.?\s+({_MONTHS})\s+\d{{4}}|"
         rf"({_MONTHS})\s+\d{{1,2}},?\s+\d{{4}}|\d{{4}}年\d{{1,2}}月\d{{1,2}}日)")
_TIME = r"([,\s]+(um\s+)?\d{1,2}[:.]\d{2}(\s*(uhr|am|pm))?)?"
# Bylines, datelines, comment counts, reading times: page furniture around the article.
META = _Words(
    "0|1|2|3|4|5|6|7|8|9|by|von|written|author|autor|tag|schlagw|stichw|kategor|categor|filed under|themen|lesezeit|"
    "reading time|标签|关键词|分类|编辑|来源|作者|发布时间|更新时间",
    rf"^\W*((posted|published|updated|veröffentlicht|aktualisiert|erschienen|stand)\b.{{0,20}})?(on|am|:)?\s*"
    rf"((mon|tues|wednes|thurs|fri|satur|sun)day|(montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag))?,?"
    rf"\s*{_DATE}{_TIME}\W*$",
    r"^\W*(by|von|written by|author|autor(in)?)\s*:?\s+[\w.\- ]{2,40}([|·,]|\bam\b|\bon\b|$)",
    r"\b\d+\s+(comments?|kommentare?|antworten|replies|bewertungen)\W*$", r"\d+\s*条?评论\W*$",
    rf"^[^.!?]{{1,40}}\s[|·•–-]\s*{_DATE}{_TIME}\W*$",
    r"^\W*\d+\s+(min(ute)?s?|minuten)\.?\s+(read|lesezeit|lesen)\b", r"^\W*(lesezeit|reading time)\s*:",
    r"^\W*(tags|schlagw(ö|oe)rter|schlagworte|stichw(ö|oe)rter|kategorien?|categories|category|filed under|themen|"
    r"标签|关键词|分类)\s*[:：]", r"^(责任编辑|编辑|来源|作者|发布时间|更新时间)\s*[:：]", r"^\W*\d+\s*(分钟|小时|天)前\W*$",
    r"^\W*\d+\s+(minutes?|hours?|days?)\s+ago\W*$", r"^\W*vor\s+\d+\s+(minuten?|stunden?|tagen?)\W*$",
    r"^\W*(\d+\s*)?(跟贴|跟帖|参与|阅读|浏览|点赞)\s*\d+\W*$")
RELATED = _Words(
    "related|more|similar|recommended|popular|trending|latest|top|also|see|read|editor|don|auch|interess|thema|ähnlich|"
    "weitere|verwandt|themen|lesen|beliebt|meistgelesen|alle|topic|recent|archiv|tag cloud|neueste|相关|热门|推荐|猜你|"
    "延伸|最新|精彩|友情|排行|最近|标签",
    r"^\W*(related|more|similar|recommended|popular|trending|latest|top)\s+(articles?|posts?|stories|news|reads|"
    r"content|topics|links)\W*$",
    r"^\W*(you (may|might) also like|see also|read also|also read|more from|editors?[’']? (picks?|recommendations?)|"
    r"recommended for you|don[’']t miss)\b",
    r"^\W*(auch interessant|das könnte (sie|dich) auch interessieren|mehr zum thema|ähnliche (artikel|beiträge)|"
    r"weitere (artikel|beiträge|themen|nachrichten|informationen)|verwandte (artikel|beiträge|themen)|"
    r"themen in diesem artikel|lesen sie auch|beliebte (artikel|beiträge)|meistgelesen|top-?themen|"
    r"alle (artikel|beiträge|folgen|news))\b", r"\b(audios and videos|more|news) on (the|this) topic\W*$",
    r"^\W*(相关(阅读|文章|推荐|新闻|链接|资讯)|热门(文章|推荐|阅读|新闻|资讯|标签)|推荐(阅读|文章)|猜你喜欢|延伸阅读|"
    r"最新(文章|资讯|评论)|精彩推荐|友情链接|为(您|你)推荐|今日推荐|热点推荐|本周热门|热门排行|排行榜|最近发表|标签列表|"
    r"标签云)\W*$", r"^\W*(recent (posts|comments)|archives|tag cloud|neueste (beiträge|kommentare)|archiv)\W*$")
# Lone interface labels: the whole line (letters only, lower case) is one of these, or several.
UI_LABELS = frozenset(s.strip() for s in """
advertisement, advertisements, ad, ads, sponsored, anzeige, werbung, share, tweet, print, email, e-mail,
drucken, teilen, weiterempfehlen, comments, comment, kommentare, kommentar, leave a comment, leave a reply, reply,
antworten, tags, tag, schlagworte, schlagwörter, themen, topics, related, related topics, top, back to top,
nach oben, zurück, back, next, previous, prev,
next page, previous page, vorherige, nächste, weiter, home, startseite, menu, menü, navigation, search, suche,
skip to content, skip to main content, zum inhalt springen, artikel bewerten, bewerten, rate this,
广告, 推广, 赞助, 分享, 打印, 收藏, 点赞, 评论, 发表评论, 返回顶部, 返回首页, 返回, 首页, 上一页, 下一页,
上一篇, 下一篇, 导航, 菜单, 搜索, 举报, 关闭, 更多, 发贴, 发表, 回复, 查看回复, 转发, 关注, 顶, 踩, 赞, 纠错,
不感兴趣, 全部楼层, 阅读下一篇, 一天, 三天, 一周,
facebook, twitter, linkedin, pinterest, reddit, whatsapp, xing, telegram, instagram, youtube,
微信, 微博, 易信, qq, qq空间, 豆瓣, 朋友圈""".split(","))
_UI_PREFIX = _any(r"^(上一篇|下一篇|上一页|下一页|previous|next|vorheriger?|nächster?)\s*(post|article|artikel|beitrag)?"
                  r"\s*[:：]")
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
        if _UI_PREFIX.search(line):
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
