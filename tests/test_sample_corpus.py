"""The bundled sample corpus (data/sample/): built deterministically by data/sample/build.py, in
formats the real libraries parse, with the planted varieties the later stages are tested on."""

from __future__ import annotations

import bz2
import gzip
import importlib.util
import json
import re
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from lxml import etree
from warcio.archiveiterator import ArchiveIterator

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
MW = "{http://www.mediawiki.org/xml/export-0.10/}"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _load_build():
    spec = importlib.util.spec_from_file_location("grist_sample_build", SAMPLE / "build.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _files(root: Path) -> dict[str, bytes]:
    skip = {"build.py", "textgen.py", "codetree.py", "README.md"}
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name not in skip and "__pycache__" not in p.parts}


def _logical(name: str, data: bytes) -> bytes:
    """Content independent of the compressor's version: decompressed streams, zip entries."""
    if name.endswith(".gz"):
        return gzip.decompress(data)
    if name.endswith(".bz2"):
        return bz2.decompress(data)
    if name.endswith(".epub"):
        import io
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return b"".join(n.encode() + b"\0" + z.read(n) for n in z.namelist())
    return data


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    build = _load_build()
    a, b = tmp_path_factory.mktemp("a"), tmp_path_factory.mktemp("b")
    build.build(a)
    build.build(b)
    return a, b


def test_build_is_deterministic(built):
    a, b = built
    fa, fb = _files(a), _files(b)
    assert sorted(fa) == sorted(fb) and len(fa) > 30
    assert [k for k in fa if fa[k] != fb[k]] == []


def test_bundled_files_match_build_py(built):
    """data/sample/ is what build.py makes (rerun `make sample` after changing the generator)."""
    fresh, bundled = _files(built[0]), _files(SAMPLE)
    assert sorted(bundled) == sorted(fresh)
    stale = [k for k in fresh if _logical(k, fresh[k]) != _logical(k, bundled[k])]
    assert stale == []
    total = sum(len(v) for v in bundled.values())
    assert 1_000_000 < total < 4_000_000


def _warc_responses():
    out = []
    for path in sorted((SAMPLE / "web").glob("*.warc.gz")):
        types = Counter()
        with open(path, "rb") as f:
            for rec in ArchiveIterator(f, check_digests=True):
                types[rec.rec_type] += 1
                if rec.rec_type == "response":
                    out.append((rec.rec_headers.get_header("WARC-Target-URI"), rec.rec_headers.get_header("WARC-Date"),
                                rec.http_headers.get_statuscode(), rec.http_headers.get_header("Content-Type"),
                                rec.content_stream().read()))
        assert types["warcinfo"] == 1 and types["request"] == types["response"] > 100, (path, types)
    return out


def test_warcs_parse_and_hold_the_planted_varieties():
    recs = _warc_responses()
    assert len(recs) >= 400
    assert all(uri and date and date.startswith("2024-") for uri, date, *_ in recs)
    status = Counter(s for _, _, s, _, _ in recs)
    assert status["404"] >= 3 and status["301"] >= 3 and status["200"] > 400
    ctypes = Counter(c.split(";")[0] for *_, c, _ in recs)
    assert ctypes["application/pdf"] >= 2 and ctypes["image/png"] >= 2
    html_ok = [(u, c, b) for u, _, s, c, b in recs if s == "200" and c.startswith("text/html")]
    charsets = Counter(c.split("charset=")[-1] for _, c, _ in html_ok)
    assert charsets["gbk"] == 1 and charsets["windows-1252"] == 1
    texts = [b.decode(c.split("charset=")[-1]) for _, c, b in html_ok]
    chinese = [t for t in texts if len(CJK.findall(t)) > 200]
    assert len(chinese) >= 15  # articles, spam, and the GBK page
    assert sum("<nav" in t and "cookie" in t and "<script" in t and "<footer" in t for t in texts) > 300
    assert sum("lang=\"fr\"" in t for t in texts) >= 4 and sum("lang=\"de\"" in t for t in texts) >= 4
    assert sum(len(re.sub(r"<[^>]+>", " ", t).split()) < 30 for t in texts) >= 15  # short junk pages

    manifest = json.loads((SAMPLE / "manifest.json").read_text())
    uris = {u for u, *_ in recs}
    clusters = manifest["web"]["near_duplicate_clusters"]
    assert len(clusters) >= 10 and all(2 <= 1 + len(c["variants"]) <= 5 for c in clusters)
    assert all(c["source"] in uris and all(v["uri"] in uris and v["jaccard_5gram_words"] >= 0.8 for v in c["variants"])
               for c in clusters)
    bodies = {u: b for u, _, _, _, b in recs}
    exact = manifest["web"]["exact_duplicates"]
    assert len(exact) >= 3 and all(bodies[e["uri"]] == bodies[e["duplicate_of"]] for e in exact)


def test_wiki_export_parses():
    root = etree.fromstring(bz2.decompress((SAMPLE / "encyclopedia" / "wiki-sample.xml.bz2").read_bytes()))
    assert root.tag == MW + "mediawiki" and root.find(MW + "siteinfo") is not None
    pages = root.findall(MW + "page")
    ns = Counter(p.findtext(MW + "ns") for p in pages)
    redirects = [p for p in pages if p.find(MW + "redirect") is not None]
    articles = [p.find(f"{MW}revision/{MW}text").text for p in pages
                if p.findtext(MW + "ns") == "0" and p.find(MW + "redirect") is None]
    assert 150 <= len(articles) <= 320 and len(redirects) >= 10 and sum(v for k, v in ns.items() if k != "0") >= 10
    assert all(p.find(f"{MW}revision/{MW}text").text.startswith("#REDIRECT [[") for p in redirects)
    assert all(p.find(f"{MW}revision/{MW}timestamp").text.endswith("Z") for p in pages)
    full = [t for t in articles if "{{Infobox" in t or "{{Speciesbox" in t]
    assert len(full) > 150
    for marker in ("<ref", "{|", "[[Category:", "== ", "'''", "|"):
        assert sum(marker in t for t in full) > 100, marker
    assert sum(len(CJK.findall(t)) > 200 for t in articles) >= 3


def test_books_parse():
    books = sorted((SAMPLE / "books").iterdir())
    assert 4 <= len(books) <= 8
    for p in books:
        if p.suffix == ".epub":
            with zipfile.ZipFile(p) as z:
                first = z.infolist()[0]
                assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
                assert z.read("mimetype") == b"application/epub+zip"
                container = etree.fromstring(z.read("META-INF/container.xml"))
                opf_path = container.find(".//{*}rootfile").get("full-path")
                opf = etree.fromstring(z.read(opf_path))
                assert opf.find(".//{http://purl.org/dc/elements/1.1/}title").text
                hrefs = {i.get("id"): i.get("href") for i in opf.iter("{*}item")}
                spine = [hrefs[r.get("idref")] for r in opf.iter("{*}itemref")]
                base = opf_path.rsplit("/", 1)[0]
                text = "".join(etree.fromstring(z.read(f"{base}/{h}")).xpath("string(.)") for h in spine)
        else:
            raw = p.read_bytes()
            text = (gzip.decompress(raw) if p.suffix == ".gz" else raw).decode("utf-8-sig")
            assert re.search(r"\*\*\* START OF THE PROJECT GUTENBERG EBOOK .+ \*\*\*", text)
            assert re.search(r"\*\*\* END OF THE PROJECT GUTENBERG EBOOK .+ \*\*\*", text)
        assert len(text) > 20_000 and text.count("\u201c") + text.count(".") > 200, p.name


def test_code_tree_has_the_things_to_skip():
    code = SAMPLE / "code"
    repos = [d for d in code.iterdir() if d.is_dir()]
    assert len(repos) >= 2
    skips = json.loads((SAMPLE / "manifest.json").read_text())["code"]["expected_skips"]
    assert set(skips.values()) >= {"vendored", "minified", "generated", "binary", "lock_file"}
    for rel, why in skips.items():
        data = (code / rel).read_bytes()
        if why == "minified":
            assert max(len(line) for line in data.splitlines()) > 5000
        if why == "generated":
            assert b"Code generated" in data and b"DO NOT EDIT" in data
        if why == "binary":
            assert data.startswith(b"\x89PNG") and len(data) < 2000
    exts = Counter(p.suffix for p in code.rglob("*") if p.is_file())
    assert all(exts[e] for e in (".py", ".js", ".go", ".c", ".md"))
