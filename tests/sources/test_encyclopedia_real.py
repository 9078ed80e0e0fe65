"""The encyclopedia reader on real Wikipedia XML dumps from the real-data set (`make real`,
data/real/wiki.py: gensim 4.4.0's test dumps, 121 articles in English and Bulgarian)."""

from __future__ import annotations

import bz2
import html
import re

import pytest

from data.real.realset import ensure_built, wiki_dumps
from pipelines.config import ReadConfig, SourceConfig
from pipelines.sources.base import Doc
from pipelines.sources.encyclopedia import read_encyclopedia
from pipelines.sources.reader_config import DEFAULT_DROP_SECTIONS, EncyclopediaConfig
from pipelines.sources.wikitext import markup_tokens

SRC = SourceConfig(name="wiki", kind="encyclopedia", paths=["x"])
ENWIKI = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"


@pytest.fixture(scope="module")
def rows() -> dict[str, dict]:
    ensure_built()
    return {r["file"]: r for r in wiki_dumps()}


def _read(path: str, cfg: ReadConfig = ReadConfig()) -> tuple[dict[str, Doc], list[str]]:
    docs, drops = {}, []
    for rec in read_encyclopedia(path, SRC, cfg):
        if isinstance(rec, Doc):
            docs[rec.meta["title"]] = rec
        else:
            drops.append(rec.reason)
    return docs, drops


def _headings(text: str, names: list[str]) -> list[str]:
    return [n for n in names if re.search(rf"^{re.escape(n)}$", text, re.MULTILINE)]


def test_no_markup_and_no_trailing_sections_left(rows):
    names = [n for ns in DEFAULT_DROP_SECTIONS.values() for n in ns]
    total = 0
    for name, row in rows.items():
        docs, drops = _read(row["path"])
        assert len(docs) == row["articles"], name
        assert set(drops) <= {"redirect", "non_article_namespace"}, name
        for title, doc in docs.items():
            assert markup_tokens(doc.text) == {}, (name, title)
            assert "markup_residue" not in doc.meta, (name, title)
            assert _headings(doc.text, names) == [], (name, title)
        total += len(docs)
    assert total == 121


def test_refs_tables_files_and_quotes_in_real_articles(rows):
    path = rows[ENWIKI]["path"]
    raw = html.unescape(bz2.open(path).read().decode("utf-8"))  # the wikitext as the XML holds it
    docs, drops = _read(path)
    assert drops.count("redirect") == 99 and drops.count("non_article_namespace") == 1
    # what the raw dump holds, and what the text keeps of it
    assert "<ref>{{cite web |url=http://www.reviewjournal.com" in raw and "{| class=wikitable" in raw
    agassi = docs["Andre Agassi"].text
    assert "he sat on the board of Meadows Bank, an independent bank in Nevada. He has" in agassi
    assert "Wimbledon | A | 1R" not in agassi  # the career table is dropped by default
    assert "[[File:Structural analysis of an ambiguous spanish sentence.svg|thumb|" in raw
    assert "Pepe vio a Pablo" not in docs["Ambiguity"].text  # a File link's caption, nested links and all
    assert "''Iliad'''s description" in raw  # italics closed next to an apostrophe (MediaWiki's doQuotes)
    assert "details in the Iliad's description of the death of Patroclus" in docs["Achilles"].text


def test_tables_as_text_and_sections_configurable(rows):
    path = rows[ENWIKI]["path"]
    cfg = ReadConfig(encyclopedia=EncyclopediaConfig(tables="text", drop_sections={}))
    docs, _ = _read(path, cfg)
    assert "\nWimbledon | A | 1R | A | A | A | QF | W | QF |" in docs["Andre Agassi"].text
    assert "\nReligious affiliation in Alabama (2014)\nAffiliation | % of U.S. population\n" in docs["Alabama"].text
    kept = sum(bool(_headings(d.text, ["External links"])) for d in docs.values())
    assert kept >= 80  # 85 of the 106 articles have one; the default config drops them all
    assert all(markup_tokens(d.text) == {} for d in docs.values())


def test_utf16_dump_and_other_namespaces(rows):
    docs, drops = _read(rows["bgwiki-latest-pages-articles-shortened.xml.bz2"]["path"])
    assert list(docs) == ["Григориански календар"] and drops == ["non_article_namespace"] * 2
    assert docs["Григориански календар"].text.startswith("Григорианският календар")
