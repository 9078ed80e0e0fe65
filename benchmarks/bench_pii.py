"""PII replacements on the real-data set (`make real`), listed for a person to judge.

    .venv/bin/python benchmarks/bench_pii.py [--list] [--rev GIT_REV]

Corpora: the saved pages' main text (grist's default extractor) and their full text (every text
node: footers and imprints hold the phone numbers), the real Chinese jsonl texts, and the documents
the web reader gets from the real WARCs. Prints the replacements per kind; `--list` prints every IP
and phone replacement with its context. `--rev` runs the scrubber of another git revision
(filters/pii.py as it was there) for a before/after comparison.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from data.real.realset import ensure_built, warcs, web_pages, zh_texts  # noqa: E402
from filters.base import FilterDoc  # noqa: E402
from pipelines.config import ReadConfig, SourceConfig  # noqa: E402
from pipelines.sources.base import Doc  # noqa: E402
from pipelines.sources.extract import decode_html, extract_main_text  # noqa: E402
from pipelines.sources.registry import get_reader  # noqa: E402


def corpora() -> dict[str, list[tuple[str, str]]]:
    from resiliparse.extract.html2text import extract_plain_text

    cfg = ReadConfig()
    main, full = [], []
    for p in web_pages():
        html = decode_html(Path(p["path"]).read_bytes())
        main.append((p["name"], extract_main_text(html, p["url"], cfg.extractor)))
        full.append((p["name"], extract_plain_text(html, main_content=False, alt_texts=False, links=False)))
    zh = [(str(r.get("id")), r["text"]) for r in zh_texts()]
    src, read = SourceConfig(name="web", kind="web", paths=["-"]), get_reader("web")
    warc = [(f"{w['file']} {rec.meta.get('url')}", rec.text) for w in warcs()
            for rec in read(w["path"], src, cfg) if isinstance(rec, Doc)]
    return {f"pages main text ({cfg.extractor})": main, "pages full text": full, "zh jsonl": zh, "warc documents": warc}


def scrubber_class(rev: str | None):
    if rev is None:
        from filters.pii import PiiScrubber

        return PiiScrubber
    source = subprocess.run(["git", "show", f"{rev}:filters/pii.py"], cwd=ROOT, check=True, capture_output=True,
                            text=True).stdout
    path = Path(tempfile.mkdtemp()) / "pii_at_rev.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("pii_at_rev", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.PiiScrubber


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--list", action="store_true", help="print every IP and phone replacement with its context")
    ap.add_argument("--rev", help="git revision whose filters/pii.py to run instead of the working tree's")
    args = ap.parse_args()
    ensure_built()
    cls = scrubber_class(args.rev)
    total = 0
    for label, texts in corpora().items():
        scrubber, hits = cls(), []
        sub = scrubber._sub

        def logged(pattern, text, placeholder, counter, check=None, _sub=sub, _hits=hits):
            return _sub(_Recording(pattern, counter, _hits), text, placeholder, counter, check)

        scrubber._sub = logged
        for name, text in texts:
            scrubber.apply(FilterDoc(name, "web", "web", text))
        counts = dict(sorted(scrubber.counters.items()))
        total += counts.get("pii:ip", 0) + counts.get("pii:phone", 0)
        print(f"{label}: {len(texts)} texts, replacements {counts}")
        if args.list:  # IPs and phones; the e-mail regex is unchanged
            for kind, found, context in hits:
                if kind != "pii:email":
                    print(f"    {kind:9} {found!r:28} | {context!r}")
    print(f"IP + phone replacements in all: {total}")


class _Recording:
    """A compiled pattern whose `sub` notes each match the scrubber replaced, with its context."""

    def __init__(self, pattern, counter: str, hits: list):
        self.pattern, self.counter, self.hits = pattern, counter, hits

    def sub(self, repl, text: str) -> str:
        def noting(m):
            out = repl(m)
            if out != m.group(0):
                self.hits.append((self.counter, m.group(0), text[max(0, m.start() - 40):m.end() + 20]))
            return out

        return self.pattern.sub(noting, text)


if __name__ == "__main__":
    main()
