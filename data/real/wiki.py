"""Real MediaWiki XML dumps for wiki/: Wikipedia exports that gensim 4.4.0's sdist ships as test data.

- `enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2`: 206 pages of a 2016
  English Wikipedia dump (export schema 0.10): 106 articles (Anarchism, Alabama, Andre Agassi, ...)
  with refs, cite templates, infoboxes, tables, File links, categories, interlanguage links and
  References / External links / See also sections; 99 redirects; 1 Wikipedia: page.
- `enwiki-table-markup.xml.bz2`: 5 English articles heavy in table markup.
- `bgwiki-latest-pages-articles-shortened.xml.bz2`: Bulgarian Wikipedia, UTF-16 encoded XML, 1
  article and 2 pages of other namespaces.
- `testcorpus.xml.bz2`: 9 short English articles.

index.json: {file: {"origin", "license", "lang", "articles", "notes"}}; `articles`: the namespace-0,
non-redirect pages in the file, as counted when this set was made.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

from fetch import pypi_sdist

GENSIM = ("gensim", "4.4.0", "a3f5b626da5518e79a479140361c663089fe7998df8ba52d56e1ded71ac5bdf5")
_DIR = "gensim/test/test_data/"
DUMPS = {
    "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2":
        ("en", 106, "2016 English Wikipedia dump, shortened: 206 pages, 99 redirects, 1 Wikipedia: page"),
    "enwiki-table-markup.xml.bz2": ("en", 5, "articles heavy in wiki table markup"),
    "bgwiki-latest-pages-articles-shortened.xml.bz2": ("bg", 1, "UTF-16 XML; 2 pages of other namespaces"),
    "testcorpus.xml.bz2": ("en", 9, "short articles"),
}


def build(out: Path) -> dict[str, int]:
    """wiki/<file> (bytes as shipped) and wiki/index.json."""
    name, version, sha = GENSIM
    out.mkdir(parents=True)
    wanted = {_DIR + f for f in DUMPS}
    with tarfile.open(pypi_sdist(name, version, sha)) as tf:
        for m in tf:
            path = m.name.split("/", 1)[-1]
            if m.isfile() and path in wanted:
                (out / path.removeprefix(_DIR)).write_bytes(tf.extractfile(m).read())
    index = {f: {"origin": f"{name}=={version} (PyPI sdist):{_DIR}{f}",
                 "license": "CC-BY-SA-3.0 (Wikipedia text); gensim LGPL-2.1", "lang": lang, "articles": n,
                 "notes": notes} for f, (lang, n, notes) in sorted(DUMPS.items())}
    missing = [f for f in index if not (out / f).is_file()]
    if missing:
        raise SystemExit(f"real-data build: {name}=={version} has no {missing[0]}")
    (out / "index.json").write_text(json.dumps(index, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return {"wiki_dumps": len(index), "wiki_articles": sum(r["articles"] for r in index.values())}
