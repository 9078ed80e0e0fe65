"""Real books for books/: Gutenberg etexts from the Canterbury corpus and real EPUBs, bytes as shipped.

- Brotli 1.1.0's sdist (`tests/testdata/`) ships four Canterbury-corpus texts: `plrabn12.txt`
  (Paradise Lost, "This is the February 1992 Project Gutenberg release of:" and a page of preamble,
  CRLF, two 0x1a DOS end-of-file marks), `lcet10.txt` ("The Project Gutenberg Etext of LOC WORKSHOP
  ON ELECTRONIC TEXTS", a footer line "*End of The Project Gutenberg Etext of ...", CRLF),
  `alice29.txt` (Alice, no Gutenberg markers, CRLF, a trailing 0x1a) and `asyoulik.txt` (As You Like
  It, tab-indented, LF).
- calibre's Quick Start Guide in 6 languages (Debian `calibre`, /usr/share/calibre/quick_start/):
  XHTML files that declare UTF-8 only in the XML declaration (no `<meta charset>`: detection alone
  reads "Let’s" as "Letâ€™s"), a cover page, a copyright title page, a toc.xhtml in the spine.
- The Live Systems Manual in 10 languages (Debian `live-manual-epub`, made by SiSU): the spine names
  each chapter file up to 30 times through fragment hrefs, an index.xhtml table of contents in the
  spine, paragraph-number links, a metadata / licence page last.
- The Ubuntu Packaging Guide (Debian `ubuntu-packaging-guide-epub`, made by Sphinx): EPUB 3 with a
  nav document, a "Navigation" bar and a "© Copyright ... Created using Sphinx" footer in every
  chapter, 7 translations as non-linear spine items, the guide's "toc" reference on a prose chapter.

index.json: {file: {"format", "origin", "license", "notes", "must", "must_not", "meta"}}: `must` are
phrases the reader's text must hold (first and last lines of the body), `must_not` boilerplate it
must not, `meta` what the doc's meta must say.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

from fetch import FetchError, _deb_data, deb, pypi_sdist

BROTLI = ("Brotli", "1.1.0", "81de08ac11bcb85841e440c13611c00b67d3bf82698314928d0b676362546724")
LIVE_MANUAL = ("live-manual-epub", "2:20151217.2", "8d020f6c902903c388ef2ccf003c5db4f2f067b6935416dce9793a41b9f4e1fc")
UBUNTU_GUIDE = ("ubuntu-packaging-guide-epub", "1.0.4", "162e0543fa70df67f5df62d2737aa256ddf6d88604f5c7955486e61000127aab")
# Debian replaces calibre's version with each security update; either pinned build will do (the
# guides are the same text, zipped on different days).
CALIBRE = [("calibre", "6.13.0+repack-2+deb12u10", "2147531d04a2db377d4a16e23e49fe99f7ac878c8f0c61e77311d71eecfd87d4"),
           ("calibre", "6.13.0+repack-2+deb12u9", "886fb8a79e73119a2912673a6813c7a985b88148efcff7e41045ec2193fd3b59")]

_PG_EXPECT = {
    "plrabn12.txt": {"must": ["Of Man's first disobedience, and the fruit", "Through Eden took their solitary way."],
                     "must_not": ["February 1992 Project Gutenberg release", "IBM cards", "October, 1991 etext"],
                     "meta": {"gutenberg_markers": True, "title": "Paradise Lost", "author": "John Milton"},
                     "notes": "1992 preamble (no start marker), CRLF, two 0x1a at the end"},
    "lcet10.txt": {"must": ["WORKSHOP ON ELECTRONIC TEXTS", "Collections Cataloging LM 642"],
                   "must_not": ["The Project Gutenberg Etext of", "*End of The Project Gutenberg Etext"],
                   "meta": {"gutenberg_markers": True, "title": "LOC WORKSHOP ON ELECTRONIC TEXTS"},
                   "notes": "one-line 1992 header, footer line starting '*End of', CRLF"},
    "alice29.txt": {"must": ["Down the Rabbit-Hole", "THE END"], "must_not": [],
                    "meta": {"gutenberg_markers": False}, "notes": "no Gutenberg markers, CRLF, a trailing 0x1a"},
    "asyoulik.txt": {"must": ["DRAMATIS PERSONAE", "[Exeunt]"], "must_not": [], "meta": {"gutenberg_markers": False},
                     "notes": "tab-indented play, LF"},
}
# language -> (must phrases, the table of contents' heading, title, language code)
_CALIBRE_EXPECT = {
    "eng": (["Let’s take a look at a few of the common tasks people use calibre for:",
             "Calibre is an open source e-book management tool.", "easy to see what needs fixing or worked on."],
            "Table of Contents", "Quick Start Guide", "en"),
    "deu": (["Calibre ist ein Open Source eBook Verwaltungsprogramm.", "bis das Problem behoben oder daran gearbeitet wird."],
            "Inhaltsverzeichnis", "Kurzanleitung", "de"),
    "fra": (["calibre est un outil open source de gestion de livres numériques.", "ce qui doit être amélioré ou étudié."],
            "Table des Matières", "Guide de démarrage rapide", "fr"),
    "ita": (["Calibre è un software open source di gestione di e-book.", "cosa deve essere, o è stato, risolto."],
            "Indice", "Guida rapida", "it"),
    "swe": (["calibre är ett e-bokhanterarverktyg med öppen källkod.", "se vad som behöver åtgärdas eller arbetas på."],
            "Innehållsförteckning", "Snabbstartguide", "sv"),
    "tur": (["Calibre bir açık kaynaktır e-kitap yönetim aracı.", "forum gönderileri zamanla kaybolma eğilimindedir."],
            "İçindekiler", "Hızlı başlangıç Kılavuzu", "tr"),
}
_LIVE_LANGS = ("ca", "de", "en", "es", "fr", "it", "ja", "pl", "pt_BR", "ro")


def _sha(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


def _deb_files(path: Path, prefix: str) -> dict[str, bytes]:
    """Files under `prefix` in a .deb's data tarball, read without unpacking the rest."""
    out = {}
    with tarfile.open(fileobj=io.BytesIO(_deb_data(path.read_bytes()))) as tf:
        for m in tf:
            name = m.name.removeprefix("./")
            if m.isfile() and name.startswith(prefix):
                out[name.removeprefix(prefix)] = tf.extractfile(m).read()
    return out


def _calibre() -> tuple[str, dict[str, bytes]]:
    errors = []
    for name, version, sha in CALIBRE:
        try:
            return f"{name}={version}", _deb_files(deb(name, version, sha), "usr/share/calibre/quick_start/")
        except FetchError as err:
            errors.append(str(err))
    raise FetchError(errors[-1])


def gutenberg_texts() -> list[tuple[dict, bytes]]:
    name, version, sha = BROTLI
    with tarfile.open(pypi_sdist(name, version, sha)) as tf:
        blobs = {m.name.split("/", 1)[1]: tf.extractfile(m).read() for m in tf
                 if m.isfile() and m.name.split("/", 1)[-1] in {f"tests/testdata/{f}" for f in _PG_EXPECT}}
    rows = []
    for file, expect in _PG_EXPECT.items():
        rows.append(({"file": file, "format": "txt", "origin": f"{name}=={version} (PyPI sdist):tests/testdata/{file}",
                      "license": "public domain (Project Gutenberg etext, Canterbury corpus); Brotli MIT",
                      **expect}, blobs[f"tests/testdata/{file}"]))
    return rows


def epubs() -> list[tuple[dict, bytes]]:
    rows = []
    origin, files = _calibre()
    for lang, (must, toc, title, code) in _CALIBRE_EXPECT.items():
        rows.append(({"file": f"calibre-quick-start-{lang}.epub", "format": "epub",
                      "origin": f"{origin} (Debian):/usr/share/calibre/quick_start/{lang}.epub",
                      "license": "CC-BY-SA-4.0 (its title page)",
                      "notes": "UTF-8 declared only in the XML declaration; cover, copyright title page and "
                               "toc.xhtml in the spine",
                      "must": must, "must_not": ["â€", f"\n{toc}\n", "© 2010-2014"],
                      "meta": {"title": title, "language": code, "author": "John Schember"}}, files[f"{lang}.epub"]))
    name, version, sha = LIVE_MANUAL
    files = _deb_files(deb(name, version, sha), "usr/share/doc/live-manual/epub/")
    for lang in _LIVE_LANGS:
        must = ["This manual serves as a single access point"] if lang == "en" else []
        rows.append(({"file": f"live-manual-{lang}.epub", "format": "epub",
                      "origin": f"{name}={version} (Debian):/usr/share/doc/live-manual/epub/live-manual.{lang}.epub",
                      "license": "GPL-3.0-or-later", "must": must,
                      "must_not": ["Source Digest: SHA2-256", "Generated by: SiSU"],
                      "notes": "spine repeats each chapter file through #fragments (read once); index.xhtml TOC; "
                               "paragraph-number links; metadata / licence page last",
                      "meta": {"language": lang}}, files[f"live-manual.{lang}.epub"]))
    name, version, sha = UBUNTU_GUIDE
    files = _deb_files(deb(name, version, sha), "usr/share/doc/ubuntu-packaging-guide-epub/")
    rows.append(({"file": "ubuntu-packaging-guide.epub", "format": "epub",
                  "origin": f"{name}={version} (Debian):/usr/share/doc/ubuntu-packaging-guide-epub/"
                            "ubuntu-packaging-guide.epub",
                  "license": "CC-BY-SA-3.0", "must": ["Welcome to the Ubuntu Packaging and Development Guide!"],
                  "must_not": ["Created using Sphinx", "Navigation\n"],
                  "notes": "EPUB 3 nav document; Sphinx navigation bars and footers; translations non-linear",
                  "meta": {"title": "Ubuntu Packaging Guide", "language": "en"}},
                 files["ubuntu-packaging-guide.epub"]))
    return rows


def build(out: Path) -> dict[str, int]:
    """books/<file> (bytes as shipped) and books/index.json."""
    out.mkdir(parents=True)
    items = gutenberg_texts() + epubs()
    index = {}
    for row, blob in sorted(items, key=lambda item: item[0]["file"]):
        (out / row["file"]).write_bytes(blob)
        index[row["file"]] = {k: v for k, v in row.items() if k != "file"} | {"sha256": _sha(blob)}
    (out / "index.json").write_text(json.dumps(index, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return {"books_txt": sum(r["format"] == "txt" for r in index.values()),
            "books_epub": sum(r["format"] == "epub" for r in index.values())}
