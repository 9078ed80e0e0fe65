"""Decode an HTML page's bytes: BOM, HTTP charset, `<meta>` charset, then a detector.

Labels are resolved through the WHATWG label table (resiliparse), then widened to the codec that
browsers actually decode that label with: pages labelled gb2312 hold GBK / GB18030 characters,
big5 pages HKSCS ones, shift_jis pages the Windows (cp932) extensions, iso-8859-1 pages cp1252.
Python's narrower `gbk` / `big5` / `shift_jis` codecs would turn those characters into U+FFFD.

One departure from the browser order: a body that is valid UTF-8 and not ASCII is decoded as UTF-8
whatever a label says. A legacy-encoded page (GBK, Shift-JIS, cp1252...) is practically never valid
UTF-8, while `charset=iso-8859-1` sent by default by a server for UTF-8 pages is common.
"""

from __future__ import annotations

import codecs
import functools
import re

from resiliparse.parse.encoding import detect_encoding, map_encoding_to_html5

_SUPERSET = {"gbk": "gb18030", "big5": "big5hkscs", "shift_jis": "cp932", "euc_kr": "cp949", "iso8859-11": "cp874"}
# `<meta charset=x>` and `<meta http-equiv=Content-Type content="text/html; charset=x">` alike.
_META = re.compile(rb"""<meta\s[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.I)
# WHATWG prescans 1024 bytes; real pages often put their meta after a longer head.
META_SCAN_BYTES = 4096
# uchardet's cost grows with input (~20 us/KB); its guess is settled well within this.
DETECT_BYTES = 1 << 16
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_CHARSET_PARAM = re.compile(r"""charset\s*=\s*["']?([^"';,\s]+)""", re.I)


@functools.lru_cache(maxsize=512)
def codec_for(label: str | None) -> str | None:
    """The Python codec a browser-compatible decoder uses for a charset label (None: unknown)."""
    if not label:
        return None
    enc = map_encoding_to_html5(label.strip().strip("\"'"), fallback_utf8=False)
    if not enc:
        return None
    enc = _SUPERSET.get(enc, enc)
    try:
        codecs.lookup(enc)
    except LookupError:
        return None
    return enc


def split_content_type(value: str | None) -> tuple[str, str | None]:
    """('text/html', 'gbk') from 'text/html; charset="gbk"'; ('', None) from None."""
    if not value:
        return "", None
    m = _CHARSET_PARAM.search(value)
    return value.split(";", 1)[0].strip().lower(), m.group(1) if m else None


def meta_charset(body: bytes) -> str | None:
    m = _META.search(body, 0, META_SCAN_BYTES)
    if m is None:
        return None
    enc = codec_for(m.group(1).decode("ascii"))
    # A page whose meta tag is readable as ASCII is not UTF-16, whatever it says (WHATWG).
    return "utf-8" if enc and enc.startswith("utf-16") else enc


def decode_page(body: bytes, http_charset: str | None = None) -> tuple[str, str, str]:
    """(text, codec, where it came from: bom | utf8 | header | meta | detected | fallback)."""
    for bom, enc in _BOMS:
        if body.startswith(bom):
            return body[len(bom):].decode(enc, errors="replace"), enc, "bom"
    declared = [(enc, src) for enc, src in ((codec_for(http_charset), "header"), (meta_charset(body), "meta")) if enc]
    if body.isascii():
        return body.decode("ascii"), *(declared[0] if declared else ("utf-8", "detected"))
    try:
        return body.decode("utf-8"), "utf-8", "utf8"
    except UnicodeDecodeError:
        pass
    for enc, src in declared:
        try:
            return body.decode(enc), enc, src
        except UnicodeDecodeError:
            continue
    detected = codec_for(detect_encoding(body[:DETECT_BYTES], from_html_meta=False))
    if detected:
        try:
            return body.decode(detected), detected, "detected"
        except UnicodeDecodeError:
            pass
    # Nothing decodes cleanly: stray bad bytes in a page of the declared (else detected) charset.
    enc, src = declared[0] if declared else (detected, "detected") if detected else ("cp1252", "fallback")
    return body.decode(enc, errors="replace"), enc, src
