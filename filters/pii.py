"""PII scrub: e-mail addresses, public IP addresses and formatted phone numbers become placeholders.

Only what regexes find reliably: private / loopback / documentation IPs are left alone (they
identify no one, and code is full of 127.0.0.1), and a phone number needs separators or a `+`
country code, so ids, prices and dates are not mistaken for one.
"""

from __future__ import annotations

import ipaddress
import re

from filters.base import FilterDoc, Transform
from filters.config import PiiConfig

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}\b")
IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\.?\d|\w)")
# Candidates only; `ipaddress` decides (so times like 12:30:45 are not addresses).
IPV6 = re.compile(r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")
PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?|\d{2,4}[ .-])\d{3,4}[ .-]\d{3,4}(?![\w-])"
    r"|(?<![\w+])\+\d{1,3}[ .-]?\d{2,4}(?:[ .-]?\d{2,4}){2,3}(?![\w-])"
)


def _public_ip(candidate: str) -> bool:
    try:
        return ipaddress.ip_address(candidate).is_global
    except ValueError:
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
                text = self._sub(IPV4, text, self.cfg.ip, "pii:ip", _public_ip)
            if "::" in text or text.count(":") >= 3:
                text = self._sub(IPV6, text, self.cfg.ip, "pii:ip", _public_ip)
        if self.cfg.phone is not None:
            text = self._sub(PHONE, text, self.cfg.phone, "pii:phone", _enough_digits)
        return text

    def _sub(self, pattern: re.Pattern, text: str, placeholder: str, counter: str, check=None) -> str:
        def repl(m: re.Match) -> str:
            if check is not None and not check(m.group(0)):
                return m.group(0)
            self.counters[counter] += 1
            return placeholder

        return pattern.sub(repl, text)


def _enough_digits(candidate: str) -> bool:
    return 9 <= sum(ch.isdigit() for ch in candidate) <= 15
