"""MediaWiki XML dump reader on real export XML (plain, bz2, gzip; whole, cut, malformed)."""

from __future__ import annotations

import pytest

from pipelines.config import ReadConfig, SourceConfig
from pipelines.sources.base import Doc
from pipelines.sources.encyclopedia import read_encyclopedia
from pipelines.sources.wikitext import wikitext_to_text as clean_wikitext
from tests.sources.fixtures import article_wikitext, paragraph, wiki_page, write_wiki

SRC = SourceConfig(name="wiki", kind="encyclopedia", paths=["x"])
CFG = ReadConfig()


def _read(path):
    return list(read_encyclopedia(str(path), SRC, CFG))


def wikitext_to_text(text, **options):
    cleaned, residue = clean_wikitext(text, **options)
    assert residue == 0, "balanced markup needs no token-by-token cleanup"
    return cleaned


def _reasons(recs):
    return ["doc" if isinstance(r, Doc) else r.reason for r in recs]


def test_wikitext_cleaning():
    text = wikitext_to_text(article_wikitext(7))
    assert text.startswith("Thing 7 is a notable object in Lisbon.")
    assert "\nHistory\n" in text and "\nLater\n" in text  # headings kept as plain lines
    assert paragraph(7) in text and paragraph(507) in text and "See Other thing." in text
    for gone in ("Infobox", "cite", "TABLECELL", "CAPTION", "Thing7.jpg", "Category", "Things", "Ding",
                 "'''", "''", "[[", "]]", "{{", "==", "<ref"):
        assert gone not in text, gone


def test_wikitext_details():
    assert wikitext_to_text("A [http://x.org label] and &amp; &eacute;<br/>next<!-- hidden -->") == "A label and & é\nnext"
    assert wikitext_to_text("See [[:Category:Cats]] and [[Image:x.png]]done __NOTOC__") == "See Category:Cats and done"
    assert wikitext_to_text("<math>x^2</math>E<sub>2</sub> {{lang|fr|oui}}") == "E2"


@pytest.mark.parametrize("compress,name", [(None, "dump.xml"), ("bz2", "dump.xml.bz2"), ("gzip", "dump.xml.gz")])
def test_pages_namespaces_redirects(tmp_path, compress, name):
    pages = [
        wiki_page("Thing 1", article_wikitext(1), 1, timestamp="2023-05-06T07:08:09Z"),
        wiki_page("Talk:Thing 1", "Discussion " + paragraph(2), 2, ns=1),
        wiki_page("Old name", "#REDIRECT [[Thing 1]]", 3, redirect="Thing 1"),
        wiki_page("Other old name", "#redirect [[Thing 1]]", 4),  # no <redirect/> element: text decides
        wiki_page("Broken", None, 5),  # no <text> element
        wiki_page("Thing 6", article_wikitext(6), 6),
        wiki_page("Only templates", "{{stub}}", 7),
    ]
    out = _read(write_wiki(tmp_path / name, pages, compress))
    assert _reasons(out) == ["doc", "non_article_namespace", "redirect", "redirect", "malformed_page", "doc",
                             "empty_text"]
    assert out[0].meta == {"title": "Thing 1", "page_id": "1", "ns": "0", "timestamp": "2023-05-06T07:08:09Z",
                           "revision_id": "10"}
    assert out[0].id is None and paragraph(1) in out[0].text
    assert out[5].meta["title"] == "Thing 6"


def test_namespace_agnostic(tmp_path):
    page = wiki_page("Plain", article_wikitext(3), 3)
    (tmp_path / "nons.xml").write_text(f"<mediawiki>{page}</mediawiki>")  # no export namespace at all
    [doc] = _read(tmp_path / "nons.xml")
    assert paragraph(3) in doc.text


def test_truncated_bz2_yields_pages_before_the_cut(tmp_path):
    # incompressible-ish text so the 900 kB bz2 blocks do not swallow everything: bz2 only hands
    # out whole blocks, so the pages before the last complete block are what can be recovered
    pages = [wiki_page(f"P{i}", article_wikitext(i) + (f" {i * 7919 % 100003:x}" * 3000), i) for i in range(1, 121)]
    full = write_wiki(tmp_path / "full.xml.bz2", pages, "bz2").read_bytes()
    (tmp_path / "cut.xml.bz2").write_bytes(full[: int(len(full) * 0.8)])
    out = _read(tmp_path / "cut.xml.bz2")
    assert out[-1].reason == "truncated_bz2"
    docs = out[:-1]
    assert len(docs) >= 20 and all(isinstance(d, Doc) for d in docs)
    assert [d.meta["title"] for d in docs] == [f"P{i}" for i in range(1, len(docs) + 1)]


def test_truncated_gzip_and_plain_xml(tmp_path):
    pages = [wiki_page(f"P{i}", article_wikitext(i), i) for i in range(1, 41)]
    full = write_wiki(tmp_path / "full.xml.gz", pages, "gzip").read_bytes()
    (tmp_path / "cut.xml.gz").write_bytes(full[: len(full) // 2])
    out = _read(tmp_path / "cut.xml.gz")
    assert out[-1].reason == "truncated_gzip" and len(out) > 5
    assert all(isinstance(d, Doc) for d in out[:-1])

    plain = write_wiki(tmp_path / "full.xml", pages).read_text()
    (tmp_path / "cut.xml").write_text(plain[: len(plain) // 2])
    out = _read(tmp_path / "cut.xml")
    assert out[-1].reason == "truncated_xml" and len(out) > 5  # a cut plain file: named as a cut
    assert [d.meta["title"] for d in out[:-1]] == [f"P{i}" for i in range(1, len(out))]


def test_malformed_xml_and_empty(tmp_path):
    good = wiki_page("Good", article_wikitext(1), 1)
    (tmp_path / "bad.xml").write_text(f"<mediawiki>{good}<page><title>X</title><ns>0</ns></pag></mediawiki>")
    assert _reasons(_read(tmp_path / "bad.xml")) == ["doc", "malformed_xml"]
    (tmp_path / "empty.xml").write_bytes(b"")
    assert _reasons(_read(tmp_path / "empty.xml")) == ["empty_file"]
    write_wiki(tmp_path / "nopages.xml", [])
    assert _reasons(_read(tmp_path / "nopages.xml")) == ["no_pages"]


def test_trailing_sections_removed_with_subsections():
    text = ("Intro.\n== History ==\nOld.\n=== Early ===\nEarly.\n== See also ==\n* [[X]]\n=== Lists ===\n* [[Y]]\n"
            "== Legacy ==\nStill here.\n== Einzelnachweise ==\n<references />\n== External links ==\n* [http://x.org X]\n")
    assert wikitext_to_text(text, sections=["See also", "external LINKS", "Einzelnachweise"]) == \
        "Intro.\nHistory\nOld.\nEarly\nEarly.\nLegacy\nStill here."


def test_tables_rendered_as_text_and_nested_templates():
    table = '{| class="wikitable"\n|+ Results\n|-\n! Year !! Team\n|-\n| 1999 || [[Benfica|SLB]]\n|-\n| style="x" | 2000 || {{flag|PT}} Porto\n|}'
    assert wikitext_to_text(f"A\n{table}\nB", tables="text") == "A\nResults\nYear | Team\n1999 | SLB\n2000 | Porto\nB"
    assert wikitext_to_text(f"A\n{table}\nB") == "A\nB"
    assert wikitext_to_text("x {{Infobox|a={{b|{{c}}}}|img=[[File:x.png]]}} y") == "x y"


def test_nowiki_and_unbalanced_markup():
    assert wikitext_to_text("Write <nowiki>{{tl}} and [[x]]</nowiki> literally.") == "Write {{tl}} and [[x]] literally."
    text, residue = clean_wikitext("Broken [[link and }} stray {{open")
    assert text == "Broken link and stray open" and residue == 3
