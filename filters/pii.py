"""PII scrub: e-mail addresses, public IP addresses and phone numbers become placeholders.

A regex finds candidates; a check on the candidate and its context decides, so that code,
versions, slices, netmasks, decimals, dates, ISBNs and prices keep their digits:

- IPv4: four valid octets (no leading zeros), a global address (not private, loopback,
  documentation, reserved: this also keeps 255.x netmasks) and not a netmask; not part of a longer
  dotted number or a decimal (`1.2.3.4.5`, `1.234.567.891,23`), not after a version or section word
  (`version 2.3.3.1`, `§ 1.2.3.4`). An address of small octets (`2.3.3.1`, `8.8.8.8`) looks like a
  version or an outline number, one of three 3-digit groups like a number grouped in thousands
  (`1.123.123.123`): those need an address word near them (IP, server, DNS, host, ://, ...).
- IPv6: what `ipaddress` accepts, global unicast (2000::/3) with at least three written groups, so
  slices `[1::2]`, `::`, times and `std::` never are.
- Phones: an international number (`+` or `00`, 8-15 digits, `(0)` trunk allowed), `(030) 1234567`,
  North American `555-123-4567`, or a national number with its trunk 0 and separators
  (`030 12345678`, `034202-3090-0`); any digit groups right after a phone label (Tel., Fax, 电话).
  Never a date, a thousands-grouped number, a number after ISBN / ISSN / DOI / PMID, a price.
"""

from __future__ import annotations

import ipaddress
import re

from filters.base import FilterDoc, Transform
from filters.config import PiiConfig

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}\b")

# ASCII word characters: a CJK character right before a number is a word boundary (致电010-...).
_W = "A-Za-z0-9_"
IPV4 = re.compile(rf"(?<![{_W}.,-])(?:\d{{1,3}}\.){{3}}\d{{1,3}}(?![{_W}]|[.,]\d|-[{_W}])")
IPV6 = re.compile(r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")
_SEP = r"(?:[ \u00a0]?[-./][ \u00a0]?|[ \u00a0])"
PHONE = re.compile(rf"(?<![{_W}.,/@#+-])(?<!\d:)[+(]?\d[\d()]*(?:{_SEP}\(?\d[\d()]*)*(?![{_W}@]|[.,/-]\d)")

_VERSION_WORDS = re.compile(
    r"(?:\b(?:v|ver|version|versions|release|rel|build|rev|revision|patch|update|firmware|kernel|section|sect|"
    r"chapter|clause|art|article|para|paragraph|fig|figure|table|step|rule|item|nr|no)\.?|§+|#)\s*[:=]?\s*$",
    re.IGNORECASE)
_ADDRESS_WORDS = re.compile(
    r"\b(?:ip|ipv4|ip-adresse|address|addr|adresse|server|host|hostname|dns|ping|proxy|gateway|router|"
    r"nameserver|resolver|connected|connection|peer|src|dst|whois|"
    r"traceroute|http|https|ftp|ssh|telnet|port)\b|://|@|\[", re.IGNORECASE)
_PHONE_LABEL = re.compile(
    r"(?:\b(?:tel|tél|phone|telephone|telefon|telefono|téléphone|fon|mobil|mobile|handy|cell|fax|call|"
    r"ruf|hotline|whatsapp)\b\.?|电话|電話|手机|手機|致电|联系电话|傳真|传真)[^\d+(]{0,12}$", re.IGNORECASE)
_NUMBER_LABEL = re.compile(r"(?:ISBN(?:-1[03])?|ISSN|DOI|PMID|PMC|arXiv|EAN|GTIN|UPC|ASIN|SKU|Art\.?-?Nr\.?)"
                           r"[\s:.]*$", re.IGNORECASE)
_CURRENCY = "$€£¥₹"
_MONEY_AFTER = re.compile(r"\s?(?:[$€£¥₹%]|EUR\b|USD\b|CHF\b|GBP\b|euros?\b|dollars?\b)", re.IGNORECASE)
_DATES = (re.compile(r"^(?P<a>\d{1,2})(?P<s>[./ -])(?P<b>\d{1,2})(?P=s)\d{2,4}(?!\d|(?P=s)\d)"),  # 04.10.2016
          re.compile(r"^\d{4}(?P<s>[./ -])(?P<a>\d{1,2})(?P=s)(?P<b>\d{1,2})(?!\d|(?P=s)\d)"))  # 2021-03-04
_RANGE = re.compile(r"^\d{4}\s?[-/]\s?\d{4}$")
_DECIMAL = re.compile(r"^\+?\d+[.,]\d{1,2}(?![\d.,])")
_THOUSANDS = re.compile(r"^\+?\d{1,3}(?:([ .,\u00a0])\d{3})(?:\1\d{3})*$")
_NORTH_AMERICA = re.compile(r"^(?:1[-. ])?[2-9]\d{2}([-.])\d{3}\1\d{4}$")
_AREA_IN_PARENS = re.compile(r"^\(\d{2,5}\)")
_TRUNK = re.compile(r"^0[1-9]\d{0,4}[ \u00a0]?[-./ \u00a0]")
_INTL = re.compile(r"^(?:\+|00)[1-9]")
_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")


def _before(text: str, start: int, n: int = 24) -> str:
    return text[max(0, start - n):start]


def public_ipv4(text: str, m: re.Match) -> bool:
    """A global IPv4 address in a context that makes it one (see the module docstring)."""
    cand = m.group(0)
    try:
        addr = ipaddress.IPv4Address(cand)
    except ValueError:  # an octet > 255 or a leading zero
        return False
    if not addr.is_global or _is_netmask(int(addr)):
        return False
    if _VERSION_WORDS.search(_before(text, m.start())) or _MONEY_AFTER.match(text, m.end()):
        return False
    octets = cand.split(".")
    # Small octets look like a version or an outline number, three 3-digit groups like a number
    # grouped in thousands (1.123.123.123): those need an address word near them.
    if sum(len(o) == 1 for o in octets) <= 1 and not all(len(o) == 3 for o in octets[1:]):
        return True
    around = text[max(0, m.start() - 40):m.end() + 12]
    return bool(_ADDRESS_WORDS.search(around)) or text.startswith(":", m.end())


def _is_netmask(value: int) -> bool:
    """Contiguous one bits from the top (255.255.254.0, 128.0.0.0)."""
    inverted = ~value & 0xFFFFFFFF
    return value >> 31 == 1 and (inverted & (inverted + 1)) == 0


def public_ipv6(text: str, m: re.Match) -> bool:
    cand = m.group(0)
    if sum(1 for g in cand.split(":") if g) < 3:
        return False
    try:
        addr = ipaddress.IPv6Address(cand)
    except ValueError:
        return False
    return addr in _GLOBAL_UNICAST and addr.is_global


def phone(text: str, m: re.Match) -> bool:
    """A phone number by its shape, or any digit groups after a phone label; never a number that
    something else explains (a date, a grouped amount, an ISBN / DOI / PMID, a price)."""
    cand = m.group(0)
    digits = re.sub(r"\D", "", cand.replace("(0)", ""))  # a trunk (0) after a country code is not dialled
    if len(set(digits)) <= 1 or _is_date(cand) or any(p.match(cand) for p in (_RANGE, _THOUSANDS, _DECIMAL)):
        return False
    before = _before(text, m.start())
    last = before.rstrip()[-1:]
    if _NUMBER_LABEL.search(before) or (last and last in _CURRENCY) or _MONEY_AFTER.match(text, m.end()):
        return False
    if _PHONE_LABEL.search(before):
        return 7 <= len(digits) <= 15
    seps = len(re.findall(_SEP, cand))
    if _INTL.match(cand):  # E.164: at most 15 digits after the + (or the 00 that dials it)
        national = digits[2:] if cand.startswith("00") else digits
        return 8 <= len(national) <= 15 and (seps > 0 or cand.startswith("+"))
    if _AREA_IN_PARENS.match(cand) or _TRUNK.match(cand):  # French numbers have 5 groups, none more
        return 9 <= len(digits) <= 12 and 1 <= seps <= 4
    return bool(_NORTH_AMERICA.match(cand))


def _is_date(cand: str) -> bool:
    """Starts with a day-month-year or year-month-day date (day <= 31, month <= 12, either order)."""
    for pattern in _DATES:
        m = pattern.match(cand)
        if m:
            a, b = int(m["a"]), int(m["b"])
            if 1 <= min(a, b) <= 12 and max(a, b) <= 31:
                return True
    return False


class PiiScrubber(Transform):
    name = "pii"
    Config = PiiConfig

    def apply(self, doc: FilterDoc) -> str:
        text = doc.text
        if "@" in text and self.cfg.email is not None:
            text = self._sub(EMAIL, text, self.cfg.email, "pii:email")
        if self.cfg.ip is not None:
            if "." in text:
                text = self._sub(IPV4, text, self.cfg.ip, "pii:ip", public_ipv4)
            if "::" in text or text.count(":") >= 3:
                text = self._sub(IPV6, text, self.cfg.ip, "pii:ip", public_ipv6)
        if self.cfg.phone is not None:
            text = self._sub(PHONE, text, self.cfg.phone, "pii:phone", phone)
        return text

    def _sub(self, pattern: re.Pattern, text: str, placeholder: str, counter: str, check=None) -> str:
        def repl(m: re.Match) -> str:
            if check is not None and not check(text, m):
                return m.group(0)
            self.counters[counter] += 1
            return placeholder

        return pattern.sub(repl, text)
