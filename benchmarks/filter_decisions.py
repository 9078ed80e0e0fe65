"""Every filter decision on real and sample text, recorded so that a speed-up can be shown to change none.

    .venv/bin/python benchmarks/filter_decisions.py --write before.jsonl.gz   # record
    .venv/bin/python benchmarks/filter_decisions.py --compare before.jsonl.gz # record again, diff

Documents: what grist's readers make of the real-data set (`~/.cache/grist/real`: the 198 saved
pages through each extractor (grist, trafilatura, resiliparse), the real WARC/ARC files, the
Chinese jsonl exports, the Gutenberg texts and EPUBs, the MediaWiki dumps, the code trees) and of
the sample corpus (`configs/demo.yaml`'s sources), and 2 of the 16 files of the peer corpus
(benchmarks/peer_corpus.py, 64 MB: what bench_peers_filters.py measures). Each document is run through:

- `own`: the default rule set of filters/stage.py (language id included; the quality classifier
  needs a trained model and is left out) under the source's own domain;
- `web`: the same set less language id, as `domain: web` (every heuristic rule and line cleaning
  applies, to books and code too);
- `rule:NAME`: each rule of that set alone, as `domain: web` (a rule's verdict on documents an
  earlier rule drops).

A record holds the key (source, document id, variant), kept or not, the drop reason, the counters
the transforms added (lines removed by reason, PII replacements) and the text after the rules.
`--compare` prints every record that differs and exits 1 if any does; the digest of all records
is printed either way.
"""

from __future__ import annotations

import argparse
import glob
import gzip
import hashlib
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from filters.base import FilterDoc, run_rules  # noqa: E402
from filters.stage import build_rules  # noqa: E402
from pipelines.config import Config, ReadConfig, SourceConfig, load_config  # noqa: E402
from pipelines.sources.base import Doc  # noqa: E402
from pipelines.sources.registry import get_reader  # noqa: E402


def _read(src: SourceConfig, read_cfg: ReadConfig) -> Iterator[tuple[str, str]]:
    for pattern in src.paths:
        for path in sorted(glob.glob(str(Path(pattern).expanduser()))):
            for k, rec in enumerate(get_reader(src.kind)(path, src, read_cfg)):
                if isinstance(rec, Doc):
                    yield f"{Path(path).name}:{rec.id or k}", rec.text


def documents() -> Iterator[tuple[SourceConfig, str, str]]:
    """(source, doc key, text) for every document the readers make of the real set and the sample."""
    from data.real import realset

    real = realset.ensure_built()
    sources: list[tuple[SourceConfig, ReadConfig]] = []
    web_cfg = load_config(ROOT / "configs" / "real-web.yaml")
    for s in web_cfg.sources:
        s.paths = [p.replace("~/.cache/grist/real", str(real)) for p in s.paths]
    for ex in ("grist", "trafilatura", "resiliparse"):
        for s in web_cfg.sources:
            if s.kind == "web":
                sources.append((s.model_copy(update={"name": f"real-web-{ex}"}), ReadConfig(extractor=ex)))
    sources.append((SourceConfig(name="real-zh", kind="jsonl", domain="web",
                                 paths=[str(real / "web" / "zh" / "*.jsonl")]), ReadConfig()))
    sources.append((SourceConfig(name="real-books", kind="books", paths=[b["path"] for b in realset.books()]),
                    ReadConfig()))
    sources.append((SourceConfig(name="real-wiki", kind="encyclopedia", paths=[w["path"] for w in realset.wiki_dumps()]),
                    ReadConfig()))
    sources.append((SourceConfig(name="real-code", kind="code", paths=[t["path"] for t in realset.code_trees()]),
                    ReadConfig()))
    demo = load_config(ROOT / "configs" / "demo.yaml")
    for s in demo.sources:
        s.paths = [str((ROOT / "configs" / p).resolve()) for p in s.paths]
        sources.append((s.model_copy(update={"name": f"sample-{s.name}"}), ReadConfig()))
    from benchmarks.peer_corpus import build

    peer = build(64)  # the documents bench_peers_filters.py measures (2 of its 16 files)
    sources.append((SourceConfig(name="peer-corpus", kind="jsonl", domain="web",
                                 paths=[str(peer / "00.jsonl.gz"), str(peer / "01.jsonl.gz")]), ReadConfig()))
    for src, read_cfg in sources:
        for key, text in _read(src, read_cfg):
            yield src, key, text


def _config(languages: bool) -> Config:
    return Config.model_validate({
        "output": "/nonexistent", "sources": [{"name": "x", "kind": "jsonl", "paths": ["/nonexistent"]}],
        "filters": {"quality": {"enabled": False}, "language": {"enabled": languages}}})


def _run(rules, domain: str, text: str) -> dict:
    doc = FilterDoc("d", "x", domain, text)
    run_rules(rules, [doc])
    counters: Counter = Counter()
    for r in rules:
        counters.update(r.counters)
        r.counters.clear()
    return {"kept": doc.reason is None, "reason": doc.reason, "counters": dict(sorted(counters.items())),
            "text": doc.text}


def records() -> Iterator[dict]:
    own = build_rules(_config(True))
    web = build_rules(_config(False))
    for r in own + web:
        r.setup()
    for src, key, text in documents():
        base = {"source": src.name, "doc": key}
        yield {**base, "variant": "own", **_run(own, src.domain, text)}
        yield {**base, "variant": "web", **_run(web, "web", text)}
        for r in web:
            yield {**base, "variant": f"rule:{r.name}", **_run([r], "web", text)}


def _key(rec: dict) -> tuple:
    return rec["source"], rec["doc"], rec["variant"]


def write(path: Path) -> tuple[str, int]:
    h, n = hashlib.sha256(), 0
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=3) as f:
        for rec in records():
            line = json.dumps(rec, ensure_ascii=False, sort_keys=True)
            h.update(line.encode())
            f.write(line + "\n")
            n += 1
    return h.hexdigest(), n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--write", type=Path, help="record every decision into this .jsonl.gz")
    g.add_argument("--compare", type=Path, help="record again and diff against this earlier record")
    a = ap.parse_args(argv)
    if a.write:
        digest, n = write(a.write)
        print(f"{n:,} records, sha256 {digest}")
        return 0
    new = a.compare.with_name(a.compare.name.replace(".jsonl.gz", "") + ".now.jsonl.gz")
    digest, n = write(new)
    with gzip.open(a.compare, "rt", encoding="utf-8") as f:
        old = {_key(r): r for r in map(json.loads, f)}
    with gzip.open(new, "rt", encoding="utf-8") as f:
        now = {_key(r): r for r in map(json.loads, f)}
    diff = [k for k in sorted(set(old) | set(now)) if old.get(k) != now.get(k)]
    for k in diff[:50]:
        o, c = old.get(k) or {}, now.get(k) or {}
        print(f"DIFF {k}: " + "; ".join(f"{f}: {o.get(f)!r:.200} -> {c.get(f)!r:.200}" for f in ("kept", "reason", "counters", "text")
                                       if o.get(f) != c.get(f)))
    kinds = Counter(r["variant"] for r in now.values())
    print(f"{n:,} records ({len({(r['source'], r['doc']) for r in now.values()}):,} documents; "
          f"{', '.join(f'{v} {c:,}' for v, c in sorted(kinds.items()))}), sha256 {digest}")
    print(f"{len(diff)} differ from {a.compare}" if diff else f"identical to {a.compare}")
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main())
