"""Real input files in real formats, built with the real libraries, for the source reader tests and benchmark."""

from __future__ import annotations

import bz2
import gzip
import io
import re
import subprocess
import zipfile
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

WORDS = ("river stone garden window theory market silver planet music winter harbor letter "
         "forest bridge engine lantern meadow signal copper violin desert orbit candle").split()


def sentence(i: int, n: int = 12) -> str:
    """A deterministic sentence; different for different i."""
    return " ".join(WORDS[(i * 7 + k * 3 + k * k) % len(WORDS)] for k in range(n)).capitalize() + f" number {i}."


def paragraph(i: int, sentences: int = 5) -> str:
    return " ".join(sentence(i * 31 + j) for j in range(sentences))


# --- WARC / WET ------------------------------------------------------------------------------

def html_page(i: int, paragraphs: int = 3, charset: str | None = "utf-8", extra: str = "") -> str:
    meta = f'<meta charset="{charset}">' if charset else ""
    body = "".join(f"<p>{paragraph(i * 10 + k)}</p>" for k in range(paragraphs))
    return (f"<!doctype html><html><head>{meta}<title>Page {i}</title><script>var tracker = 'SCRIPT_JUNK';</script>"
            f"<style>.x {{ color: red }}</style></head><body>"
            f"<nav><ul><li><a href='/'>Home</a></li><li><a href='/about'>About us</a></li></ul></nav>"
            f"<main><article><h1>Article {i}</h1>{extra}{body}</article></main>"
            f"<footer>Copyright footer text</footer></body></html>")


def write_warc(path: Path, records: list[dict[str, Any]], gzip_records: bool = True) -> Path:
    """records: {"type": response|resource|request|metadata|conversion, "url", "body": bytes,
    "status": "200 OK", "content_type": "text/html; charset=utf-8", "http": bool}. A warcinfo
    record comes first, as in Common Crawl files; each record is its own gzip member."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        w = WARCWriter(f, gzip=gzip_records)
        w.write_record(w.create_warcinfo_record(path.name, {"software": "grist-tests"}))
        for r in records:
            rtype = r.get("type", "response")
            ctype = r.get("content_type", "text/html; charset=utf-8")
            if rtype in ("response", "request") and r.get("http", True):
                if rtype == "response":
                    http = StatusAndHeaders(r.get("status", "200 OK"), [("Content-Type", ctype)], protocol="HTTP/1.1")
                else:
                    http = StatusAndHeaders(f"GET {r['url']} HTTP/1.1", [("Host", "example.com")], is_http_request=True)
                rec = w.create_warc_record(r["url"], rtype, payload=io.BytesIO(r["body"]), http_headers=http)
            else:
                rec = w.create_warc_record(r["url"], rtype, payload=io.BytesIO(r["body"]),
                                           warc_content_type=ctype, warc_headers_dict=r.get("warc_headers"))
            w.write_record(rec)
    return path


def web_records(n: int, start: int = 0) -> list[dict[str, Any]]:
    """n HTML responses, each followed by its request record (as crawlers write them)."""
    out = []
    for i in range(start, start + n):
        url = f"https://example.com/page/{i}"
        out.append({"type": "request", "url": url, "body": b""})
        out.append({"type": "response", "url": url, "body": html_page(i).encode()})
    return out


def wet_records(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [{"type": "conversion", "url": f"https://example.org/doc/{i}", "content_type": "text/plain",
             "body": f"{paragraph(i)}\n{paragraph(i + 1000)}\n".encode()} for i in range(start, start + n)]


# --- MediaWiki XML ---------------------------------------------------------------------------

MW_NS = "http://www.mediawiki.org/xml/export-0.11/"


def wiki_page(title: str, text: str | None, page_id: int, ns: int = 0, redirect: str | None = None,
              timestamp: str = "2024-01-02T03:04:05Z") -> str:
    red = f'<redirect title="{escape(redirect)}" />' if redirect else ""
    text_el = "" if text is None else f'<text bytes="{len(text)}" xml:space="preserve">{escape(text)}</text>'
    return (f"  <page>\n    <title>{escape(title)}</title>\n    <ns>{ns}</ns>\n    <id>{page_id}</id>\n    {red}\n"
            f"    <revision>\n      <id>{page_id * 10}</id>\n      <timestamp>{timestamp}</timestamp>\n"
            f"      <model>wikitext</model>\n      {text_el}\n    </revision>\n  </page>\n")


def article_wikitext(i: int) -> str:
    return (f"{{{{Infobox thing|name=Thing {i}|size=3}}}}\n"
            f"'''Thing {i}''' is a ''notable'' [[Object (thing)|object]] in [[Lisbon]].<ref>{{{{cite web|url=x}}}}</ref>\n\n"
            f"== History ==\n{paragraph(i)} See [[Other thing]].\n\n"
            f"{{| class=\"wikitable\"\n! Year !! Value\n|-\n| 1999 || TABLECELL\n|}}\n"
            f"[[File:Thing{i}.jpg|thumb|A CAPTION of thing]]\n"
            f"=== Later ===\n{paragraph(i + 500)}\n\n[[Category:Things]]\n[[de:Ding {i}]]\n")


def write_wiki(path: Path, pages: list[str], compress: str | None = None, close: bool = True) -> Path:
    xml = (f'<mediawiki xmlns="{MW_NS}" version="0.11" xml:lang="en">\n  <siteinfo>\n    <sitename>Testpedia</sitename>\n'
           f'  </siteinfo>\n' + "".join(pages) + ("</mediawiki>\n" if close else ""))
    data = xml.encode("utf-8")
    if compress == "bz2":
        data = bz2.compress(data)
    elif compress == "gzip":
        data = gzip.compress(data)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# --- books -----------------------------------------------------------------------------------

def gutenberg_text(title: str, body: str) -> str:
    return (f"\ufeffThe Project Gutenberg eBook of {title}\n\nThis ebook is for the use of anyone anywhere "
            f"in the United States and most other parts of the world at no cost.\n\nRelease date: 2001\n\n"
            f"*** START OF THE PROJECT GUTENBERG EBOOK {title.upper()} ***\n\n{body}\n\n"
            f"*** END OF THE PROJECT GUTENBERG EBOOK {title.upper()} ***\n\n"
            f"Updated editions will replace the previous one. LICENCE FOOTER: Section 1. General Terms.\n")


def book_body(i: int, chapters: int = 3, paras: int = 4) -> str:
    return "\n\n".join(f"CHAPTER {c + 1}\n\n" + "\n\n".join(paragraph(i * 100 + c * 10 + p) for p in range(paras))
                       for c in range(chapters))


def write_epub(path: Path, chapters: dict[str, str], spine: list[str], title: str = "A Book",
               author: str = "Ann Author", opf_dir: str = "OEBPS") -> Path:
    """chapters: {file name: body text}; spine: the file names in reading order."""
    path.parent.mkdir(parents=True, exist_ok=True)
    items = "".join(f'<item id="c{k}" href="text/{name}" media-type="application/xhtml+xml"/>'
                    for k, name in enumerate(chapters))
    ids = {name: f"c{k}" for k, name in enumerate(chapters)}
    refs = "".join(f'<itemref idref="{ids[name]}"/>' for name in spine)
    opf = (f'<?xml version="1.0" encoding="UTF-8"?>\n<package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
           f'unique-identifier="uid"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
           f'<dc:identifier id="uid">urn:uuid:1234</dc:identifier><dc:title>{escape(title)}</dc:title>'
           f'<dc:creator>{escape(author)}</dc:creator><dc:language>en</dc:language></metadata>'
           f'<manifest><item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>{items}</manifest>'
           f'<spine>{refs}</spine></package>')
    container = ('<?xml version="1.0"?>\n<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
                 f'<rootfiles><rootfile full-path="{opf_dir}/content.opf" media-type="application/oebps-package+xml"/>'
                 '</rootfiles></container>')
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")  # first and stored, per OCF
        zf.writestr("META-INF/container.xml", container, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr(f"{opf_dir}/content.opf", opf, compress_type=zipfile.ZIP_DEFLATED)
        for name, text in chapters.items():
            paras = "".join(f"<p>{escape(p)}</p>" for p in text.split("\n\n"))
            xhtml = ('<?xml version="1.0" encoding="UTF-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><head>'
                     f'<title>{escape(name)}</title></head><body>{paras}</body></html>')
            zf.writestr(f"{opf_dir}/text/{name}", xhtml, compress_type=zipfile.ZIP_DEFLATED)
    return path


# --- code ------------------------------------------------------------------------------------

def python_module(i: int, functions: int = 5) -> str:
    out = [f'"""Module {i}."""\n', "import math\n"]
    for k in range(functions):
        out.append(f"\n\ndef func_{i}_{k}(x, y={k}):\n    \"\"\"Return a value.\"\"\"\n"
                   f"    total = x * {k + 1} + y\n    for step in range({k + 2}):\n        total += math.sqrt(step + x)\n"
                   f"    return total\n")
    return "".join(out)


def git_init_commit(repo: Path) -> str:
    """`git init` + commit everything in `repo`; returns the HEAD commit."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-c", "user.name=Grist Test", "-c", "user.email=test@example.com",
                               "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
                              cwd=repo, check=True, capture_output=True, text=True).stdout.strip()

    git("init", "-q")
    git("add", "-A")
    git("commit", "-q", "-m", "initial")
    return git("rev-parse", "HEAD")


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content if isinstance(content, bytes) else content.encode())
    return root


def write_big_line(path: Path, size: int, byte: bytes = b"a") -> Path:
    """A `size`-byte file with no newline, written in 1 MiB blocks (fast, little memory)."""
    block = byte * (1 << 20)
    with open(path, "wb") as f:
        for _ in range(size >> 20):
            f.write(block)
        f.write(byte * (size & ((1 << 20) - 1)))
    return path


# The six code points where cp932 (Windows, WHATWG: what browsers show) and Python's shift_jis (JIS,
# with which the real set's expected texts were decoded) map the same bytes differently: 0x817C is
# U+FF0D in one, U+2212 in the other, and so on.
_CP932_AS_JIS = str.maketrans("\uff0d\uff5e\u2225\uffe0\uffe1\uffe2", "\u2212\u301c\u2016\u00a2\u00a3\u00ac")


def cjk_norm(text: str) -> str:
    """Whitespace collapsed and cp932's variants mapped to JIS ones, to compare decoded CJK text."""
    return re.sub(r"\s+", " ", text.translate(_CP932_AS_JIS)).strip()


def multistream(xml: bytes, pages_per_stream: int, compress=None) -> bytes:
    """A dump re-compressed as Wikimedia writes its multistream dumps: the head (`<siteinfo>`) as one
    stream, then `pages_per_stream` pages a stream, then the closing tag as the last one
    (`compress`: bz2.compress by default, or gzip.compress for one member a group)."""
    compress = compress or bz2.compress
    starts = [xml.rfind(b"\n", 0, m.start()) + 1 for m in re.finditer(rb"<page>", xml)]
    end = xml.rfind(b"</page>") + len(b"</page>\n")
    cuts = [0] + starts[::pages_per_stream] + [end, len(xml)]
    return b"".join(compress(xml[a:b]) for a, b in zip(cuts, cuts[1:]) if b > a)


def read_in_pieces(reader, path: str, src, cfg, step: int) -> tuple[list, list[str], int]:
    """(records of the pieces [0, step), [step, 2*step), ... of a file, read one after the other;
    the pieces' Note counters; how many pieces held a record)."""
    import os

    size = os.path.getsize(path)
    cuts = list(range(0, size, step)) + [size]
    records, notes, holding = [], [], 0
    for a, b in zip(cuts, cuts[1:]):
        got = list(reader(path, src, cfg, byte_range=(a, b)))
        notes += [r.counter for r in got if type(r).__name__ == "Note"]
        own = [r for r in got if type(r).__name__ != "Note"]
        holding += bool(own)
        records += own
    return records, notes, holding
