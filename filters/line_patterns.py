"""What boilerplate lines say, in English, German and Chinese (some French, Spanish, Japanese):
one family of patterns per removal reason of filters/lines.py. Collected from the leftovers that
real pages of the real-data set show after extraction (bench_real_web.py), kept narrow: each
family is applied only to lines short enough to be interface rather than prose.
"""

from __future__ import annotations

import re


def any_of(*patterns: str) -> re.Pattern:
    return re.compile("|".join(patterns), re.IGNORECASE)


class Words:
    """A regex of many alternatives, tried only on lines holding one of its trigger strings (in
    lower case): most lines hold none, and one scan for plain strings is cheaper than the search
    (measured on the real set's 6400 texts: the whole cleaner 1.3x faster). filters/lines.py scans
    a whole document's lower case for the triggers at once: a trigger neither starts nor ends with
    a space, so it is found in a line's lower case exactly when it is found in its stripped line's."""

    def __init__(self, triggers: str, *patterns: str):
        self.words = triggers.split("|")
        assert all(w == w.strip() and w == w.lower() and "\n" not in w for w in self.words), triggers
        self.trigger = re.compile("|".join(map(re.escape, self.words)))
        self.regex = any_of(*patterns)

    def search(self, line: str, low: str) -> bool:
        return self.trigger.search(low) is not None and self.regex.search(line) is not None


COPYRIGHT = Words(
    "©|&copy|(c)|copyright|rights reserved|rechte vorbehalten|droits réservés|derechos reservados|版权|版權|保留所有|"
    "转载|無断転載",
    r"©", r"&copy;", r"\(c\)\s*(19|20)\d\d", r"\bcopyright\s*(©|\(c\)|(19|20)\d\d|by\b)", r"\ball rights reserved\b",
    r"\balle rechte vorbehalten\b", r"\btous droits réservés\b", r"\btodos los derechos reservados\b", r"版权所有",
    r"版權所有", r"保留所有权利", r"未经授权.{0,8}转载", r"禁止转载", r"無断転載")
# Cookie notices run to a few sentences: they are recognised up to max_notice_width by what they say.
COOKIE_NOTICE = Words(
    "cookie|by continuing|by using",
    r"\b(we|this (web)?site|our (web)?site|wir|diese (web)?seite|diese website)\b.{0,40}\b(use|uses|using|"
    r"verwende[nt]?|nutz(en|t)|setz(en|t)|einsetzen)\b.{0,20}\bcookies\b",
    r"\bcookies?[- ]?(policy|settings|preferences|consent|banner|richtlinie|einstellungen|hinweis)",
    r"\b(accept|akzeptieren|zustimmen|allow)\b.{0,20}\bcookies\b",
    r"\bby (continuing|using)\b.{0,60}\byou (agree|accept|consent)\b", r"本网站使用\s*cookies?", r"我们使用\s*cookies?")
# A wide line ending in a "more" link is a teaser or a product shelf ("... > 查看更多").
MORE_LINK_END = Words(
    "更多|more|mehr|weiterlesen",
    r"[>»›]\s*(查看更多|更多|more|mehr)\s*[>»›]*\s*$", r"(查看更多|更多|read more|weiterlesen)\s*[>»›]+\s*$")
# A call to subscribe runs to a sentence or two as well.
NEWSLETTER = Words(
    "newsletter|订阅",
    r"\b(subscribe to|sign up for|abonnieren sie|melden sie sich)\b.{0,60}\bnewsletter",
    r"\bnewsletter\b.{0,40}\b(abonnieren|subscribe|sign up)\b", r"订阅.{0,10}(邮件|newsletter|推送)")
# A short line that names a policy page is a footer link.
POLICY = Words(
    "privacy|terms|datenschutz|nutzungsbedingungen|impressum|mentions légales|隐私|条款|协议|免责|利用規約|プライバシー",
    r"\bprivacy\s+(policy|statement|notice|settings)\b", r"\bterms\s+(of\s+(use|service)|and\s+conditions)\b",
    r"\bdatenschutz(erklärung|hinweise|richtlinie|einstellungen|bestimmungen)?\b", r"\bnutzungsbedingungen\b",
    r"\bimpressum\b", r"\bmentions légales\b", r"隐私政策", r"隐私条款", r"隐私保护", r"使用条款", r"服务条款", r"用户协议",
    r"免责声明", r"利用規約", r"プライバシーポリシー")
JAVASCRIPT = Words(
    "javascript",
    r"\bjavascript\b.{0,60}\b(enable|enabled|disabled|turn(ed)? on|activate|aktivier|deaktiviert|required|requires|"
    r"einschalten)", r"\b(enable|activate|turn on|requires?|aktivieren sie)\b.{0,40}\bjavascript\b",
    r"(启用|开启|打开|禁用|需要|支持)\s*javascript", r"javascript\s*(已禁用|被禁用)")
LOGIN = Words(
    "log|sign|regist|account|password|anmeld|einlog|auslog|abmeld|passwort|konto|登录|登陆|注册|密码|会员中心|ログイン",
    r"\b(log\s?-?in|sign\s?-?in|sign\s?-?up|log\s?-?out|sign\s?-?out)\b",
    r"^\W*register\W*$|\bregister\s+(now|here|for free|today)\b", r"\bcreate\s+(an|your|a free)\s+account\b",
    r"\bforgot\s+(your\s+)?password\b", r"\bmy account\b", r"\b(anmelden|einloggen|ausloggen|abmelden|registrieren)\b",
    r"\bpasswort vergessen\b", r"\bmein konto\b", r"登录", r"登陆", r"立即注册", r"免费注册", r"注册账号", r"会员注册",
    r"用户注册", r"注册\s*[|/｜]", r"[|/｜]\s*注册", r"忘记密码", r"会员中心", r"ログイン")
_NETWORKS = "facebook|twitter|linkedin|pinterest|reddit|whatsapp|xing|telegram|tumblr|weibo|微博|微信|qq空间|豆瓣"
SHARE = Words(
    "share|pin it|this|follow|keep up|folgen|teilen|weiterempfehlen|分享|转发|关注|" + _NETWORKS,
    r"\bshare\s+(on|this|via|to|with|article|story|post|page)\b", r"^\W*share\s*(:|$)", r"\bpin it\b",
    r"\b(e-?mail|print|send)\s+this\b", r"\bfollow (us|me)\b", r"\bkeep up with (me|us)\b", r"\bfolgen sie uns\b",
    r"\bteilen\s+(auf|per|via|mit)\b", r"\bweiterempfehlen\b", r"^\W*(artikel\s+)?teilen\b",
    rf"({_NETWORKS}).{{0,30}}({_NETWORKS})", r"分享到", r"分享至", r"一键分享", r"转发到", r"扫一扫分享", r"关注我们")
READ_MORE = Words(
    "read|more|learn|view|see|load|show|weiter|mehr|lade|erfahre|zum artikel|阅读|查看|更多|展开|继续|加载",
    r"\bread\s+more\b", r"\bcontinue\s+reading\b", r"\bread\s+the\s+full\b", r"\bmore\s*[»›>]", r"\blearn\s+more\b",
    r"\b(view|see|load|show)\s+(more|all)\b", r"\bweiterlesen\b", r"\bmehr\s+(lesen|erfahren|anzeigen)\b",
    r"\bweiter\s*[»›>]", r"\b(lade|load)\s+(weitere|more)\b", r"\berfahre mehr\b", r"阅读全文", r"阅读更多", r"查看更多",
    r"查看全文", r"更多\s*[>»›]", r"展开全文", r"点击查看", r"继续阅读", r"全文阅读", r"加载更多")
PROMO = Words(
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
META = Words(
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
RELATED = Words(
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
UI_PREFIX_WORDS = r"上一篇|下一篇|上一页|下一页|previous|next|vorheriger?|nächster?"
UI_PREFIX = any_of(rf"^({UI_PREFIX_WORDS})\s*(post|article|artikel|beitrag)?\s*[:：]")
