"""The HTML reports: `grist stats --html FILE` (a shard folder) and `OUTPUT/report.html` (a run).

One self-contained file: inline CSS and inline SVG plots (shards/svg.py, no matplotlib). A run report
shows what the run has: stages, removals by stage and reason, per-source counts, quality scores,
and, when the product stages ran, the mixture table, length histograms and decoded samples.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.parts import atomic_write_bytes
from shards import svg

CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:24px auto;max-width:1200px;color:#222}
h1{font-size:24px}h2{font-size:19px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}td,th{border:1px solid #ddd;padding:4px 8px}
th{background:#f4f4f4;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#18794e;font-weight:600}.bad{color:#c62828;font-weight:600}.warn{background:#fff4e0;padding:6px 10px;margin:4px 0}
svg.plot{display:block;max-width:100%;height:auto;border:1px solid #eee;margin:6px 0}
pre{background:#f7f7f7;padding:8px;white-space:pre-wrap;word-break:break-word;font-size:12px;max-height:220px;overflow:auto}
.muted{color:#777}
.alert{border:2px solid #c62828;background:#fdecea;padding:8px 14px;margin:12px 0}.alert h2{color:#c62828;border:0;margin:4px 0}
.alert li{margin:4px 0}
"""


def _table(header: list[str], rows: list[list[Any]]) -> str:
    def cell(v: Any) -> str:
        if isinstance(v, bool) or v is None:
            return f"<td>{'' if v is None else ('yes' if v else 'no')}</td>"
        if isinstance(v, int):
            return f'<td class="n">{v:,}</td>'
        if isinstance(v, float):
            return f'<td class="n">{v:,.0f}</td>' if abs(v) >= 1000 else f'<td class="n">{v:,.4g}</td>'
        return f"<td>{html.escape(str(v))}</td>"

    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(cell(v) for v in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _pct(x: float | None) -> str:
    return "" if x is None else f"{100 * x:.2f}%"


def _hist_series(values: dict[str, np.ndarray], bins: np.ndarray, lo: float, hi: float) -> list[tuple[str, list[int]]]:
    return [(f"{s} (n={len(v):,})", np.histogram(np.clip(v, lo, hi), bins=bins)[0].tolist()) for s, v in values.items()]


def plot_lengths(lengths: dict[str, np.ndarray]) -> str:
    hi = max(float(np.percentile(v, 99)) for v in lengths.values() if len(v)) or 1.0
    bins = np.linspace(0, hi, 40)
    return svg.histograms(bins.tolist(), _hist_series(lengths, bins, 0, hi), title="Document length by source",
                          xlabel="tokens per document (clipped at p99)", ylabel="documents")


def plot_composition(rows: list[dict[str, Any]]) -> str:
    series = [("target", "target_share"), ("planned", "planned_share"), ("realized", "realized_share")]
    return svg.grouped_bars([r["source"] for r in rows],
                            [(label, [100 * (r.get(key) or 0) for r in rows]) for label, key in series],
                            title="Mixture: share of tokens per source", ylabel="% of tokens", unit="%")


STAGE_COLORS = {"read": "#9e9e9e", "filters": "#c0504d", "dedup": "#e8a33d"}


def plot_sources(sources: dict[str, dict[str, Any]]) -> str:
    """One bar per source: the share of its records kept, and removed by each stage."""
    names = list(sources)
    by_stage: dict[str, list[float]] = {}
    for i, name in enumerate(names):
        v = sources[name]
        for key, n in v["dropped"].items():
            stage = key.split(":", 1)[0]
            by_stage.setdefault(stage, [0.0] * len(names))[i] += 100.0 * n / max(v["docs_in"], 1)
    kept = [100.0 * sources[n]["docs_out"] / max(sources[n]["docs_in"], 1) for n in names]
    series = [("kept", "#4f81bd")] + [(f"removed by {st}", STAGE_COLORS.get(st, "#8064a2")) for st in by_stage]
    rows = [(n, [kept[i]] + [vals[i] for vals in by_stage.values()]) for i, n in enumerate(names)]
    return svg.hbar_stacked(rows, series, xlabel="% of the source's records", xmax=100.0,
                            notes=[f"{k:.0f}% kept" for k in kept], unit="%",
                            label="Per source: kept and removed by stage")


def _sources_section(sources: dict[str, dict[str, Any]]) -> str:
    """At a glance: how much of each source was kept, and the main reasons for the rest."""
    if not sources:
        return ""
    rows = []
    for k, v in sources.items():
        items = sorted(v["dropped"].items(), key=lambda kv: (-kv[1], kv[0]))
        top = ", ".join(f"{r} {n:,}" for r, n in items[:4]) + (f", +{len(items) - 4} more" if len(items) > 4 else "")
        rows.append([k, v["docs_in"], v["docs_out"], (100.0 * v["docs_out"] / v["docs_in"]) if v["docs_in"] else 0.0,
                     top or "-"])
    return ("<h2>Per source: kept and why not</h2>" + plot_sources(sources)
            + _table(["source", "records", "documents", "kept %", "main reasons removed (stage:reason)"], rows))


def plot_removals(stages: list[dict[str, Any]]) -> str:
    items = [(f"{s['name']}: {r}", n) for s in stages for r, n in s.get("dropped", {}).items() if n]
    items.sort(key=lambda kv: (-kv[1], kv[0]))
    return svg.hbar(items, title="Removals by stage and reason", xlabel="documents removed", color="#c0504d")


def plot_quality(scores: dict[str, np.ndarray]) -> str:
    bins = np.linspace(0, 1, 41)
    return svg.histograms(bins.tolist(), _hist_series(scores, bins, 0, 1), title="Quality score of kept documents",
                          xlabel="quality_score", ylabel="documents")


def _mixture_section(rows: list[dict[str, Any]], warnings: list[str], target: Any) -> str:
    out = [f"<h2>Mixture</h2><p>target tokens: {html.escape(f'{target:,}' if target else 'every kept token once')}</p>"]
    out += [f'<div class="warn">{html.escape(w)}</div>' for w in warnings]
    out.append(_table(
        ["source", "weight", "target share", "planned share", "realized share", "tokens (one pass)", "realized tokens",
         "epochs", "max epochs", "capped"],
        [[r["source"], r["weight"], _pct(r["target_share"]), _pct(r.get("planned_share")), _pct(r.get("realized_share")),
          r["available_tokens"], r.get("realized_tokens", r["planned_tokens"]),
          float(r.get("realized_epochs", r["epochs"])), float(r["max_epochs"]), r["capped"]] for r in rows]))
    if rows:
        out.append(plot_composition(rows))
    return "".join(out)


def shard_sections(folder: Path, stats: dict[str, Any] | None = None) -> str:
    """Shards, tokenizer, checksums, length histograms and decoded samples of a shard folder."""
    from shards.format import Manifest
    from shards.stats import compute_stats, doc_lengths, sample_documents

    st = stats or compute_stats(folder)
    m = Manifest.load(folder)
    ck = st["checksums"]
    status = (f'<span class="ok">all {ck["files"]} shard checksums verified</span>' if ck["ok"]
              else f'<span class="bad">checksum problems: {html.escape("; ".join(ck["problems"]))}</span>')
    out = [f"<h2>Shards</h2><p>{html.escape(str(folder))}: {status}</p>",
           _table(["split", "tokens", "documents", "shards"],
                  [[k, v["tokens"], v["documents"], v["shards"]] for k, v in st["splits"].items()]),
           _table(["shard files", "total bytes", "min bytes", "mean bytes", "max bytes"],
                  [[st["shards"]["count"], st["shards"]["bytes"], st["shards"]["bytes_min"],
                    st["shards"]["bytes_mean"], st["shards"]["bytes_max"]]])]
    tk = st["tokenizer"]
    out.append("<h2>Tokenizer</h2>" + _table(["vocab size", "dtype", "eot id", "sha256", "special tokens"],
                                             [[tk["vocab_size"], tk["dtype"], tk["eot_id"], tk["sha256"][:16] + "…",
                                               ", ".join(tk.get("special_tokens", []))]]))
    mix = m.extra.get("mixture", [])
    if mix:
        out.append(_mixture_section(mix, m.extra.get("warnings", []), m.extra.get("target_tokens")))
    docs = {x["source"]: x["documents"] for x in st["sources"]} | {"all": st["documents"]}
    out.append("<h2>Document lengths (tokens)</h2>" + _table(
        ["source", "documents", "mean", "p5", "p50", "p95", "p99", "max"],
        [[s, docs.get(s), v["mean"], v["p5"], v["p50"], v["p95"], v["p99"], v["max"]]
         for s, v in st["lengths"].items() if v]))
    lengths = doc_lengths(folder, m)
    if lengths:
        out.append(plot_lengths(lengths))
    samples = sample_documents(folder)
    if samples:
        out.append("<h2>Sample documents (decoded from the first shard)</h2>")
        for s in samples:
            out.append(f'<p class="muted">{html.escape(s["source"])} · {html.escape(s["id"])} · {s["tokens"]:,} tokens</p>'
                       f"<pre>{html.escape(s['text'])}</pre>")
    return "".join(out)


def _run_sections(report: dict[str, Any]) -> str:
    stages = report.get("stages", [])
    out = [_sources_section(report.get("sources", {})), "<h2>Stages</h2>", _table(
        ["stage", "docs in", "kept", "dropped", "MB in", "seconds"],
        [[s["name"], s["docs_in"], s["docs_out"], sum(s["dropped"].values()), s["bytes_in"] / 1e6, s["seconds"]]
         for s in stages])]
    if report.get("skipped_stages"):
        out.append(f'<p class="muted">switched off: {html.escape(", ".join(report["skipped_stages"]))}</p>')
    a = report.get("accounting", {})
    if a:
        cls, word = ("ok", "balanced") if a.get("balanced") else ("bad", "NOT balanced")
        out.append(f"<p>accounting: {a['records_in']:,} records = {a['documents']:,} documents + {a['dropped']:,} dropped "
                   f'<span class="{cls}">{word}</span></p>')
    out.append("<h2>Removals by stage and reason</h2>")
    if any(s.get("dropped") for s in stages):
        out.append(plot_removals(stages))
        out.append(_table(["stage", "reason", "documents"],
                          [[s["name"], r, n] for s in stages for r, n in sorted(s["dropped"].items(), key=lambda kv: -kv[1])]))
    else:
        out.append("<p>nothing was removed</p>")
    return "".join(out)


def warnings_section(warnings: list[str]) -> str:
    """The run's loud warnings (report.json `warnings`), for the top of the page."""
    if not warnings:
        return ""
    items = "".join(f"<li>{html.escape(w)}</li>" for w in warnings)
    return f'<div class="alert"><h2>{len(warnings)} warning{"s" if len(warnings) > 1 else ""}</h2><ul>{items}</ul></div>'


def classifier_section(report: dict[str, Any]) -> str:
    """The quality classifier: training size, held-out figures, checks, and per scored source its
    score distribution with the keep rate expected before the run and the one realized."""
    q = next((s.get("extra", {}).get("quality") for s in report.get("stages", []) if s["name"] == "filters"), None)
    if not q:
        return ""
    out = ["<h2>Quality classifier</h2>"]
    if q.get("skipped"):
        return out[0] + f"<p>not applied: {html.escape(q['skipped'])}</p>"
    m = q.get("metrics")
    if m:
        held, tok = m["held_out"], m.get("train_tokens", {})
        out.append(_table(["documents a class", "reference tokens", "web tokens", "held-out n", "ROC AUC", "accuracy",
                           "precision", "recall"],
                          [[m.get("docs_per_class"), tok.get("positive"), tok.get("negative"), held.get("n"),
                            held.get("roc_auc"), held.get("accuracy"), held.get("precision"), held.get("recall")]]))
    else:
        out.append(f"<p>given model: {html.escape(str(q.get('model')))}</p>")
    rule = q.get("effective_keep", q["keep"])
    words = [f"keep rule: {rule}" + (f" (configured: {q['keep']})" if rule != q["keep"] else "")]
    if q.get("cutoff") is not None:
        words.append(f"cutoff {q['cutoff']:.4f}")
    words.append(f"on_weak: {q.get('on_weak', '')}")
    out.append(f"<p>{html.escape('; '.join(words))}</p>")
    if q.get("weak"):
        out.append('<p class="bad">weak: ' + html.escape("; ".join(q["weak"])) + "</p>")
    if q.get("sources"):
        out.append(_table(["source", "documents", "sampled", "scored", "p10", "p25", "p50", "p75", "p90", "IQR",
                           "expected keep", "reached classifier", "kept", "realized keep"],
                          [[k, r.get("documents"), r.get("sampled"), r.get("scored"), r.get("p10"), r.get("p25"), r.get("p50"),
                            r.get("p75"), r.get("p90"), r.get("iqr"), _pct(r.get("expected_keep")), r.get("reached"),
                            r.get("kept"), _pct(r.get("realized_keep"))] for k, r in q["sources"].items()]))
    return "".join(out)


def _page(title: str, body: str) -> str:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>")


def _quality_section(documents: Path) -> str:
    from shards.stats import quality_scores

    scores = quality_scores(documents)
    if not scores:
        return ""
    return "<h2>Quality scores</h2>" + plot_quality(scores)


def write_stats_html(path: Path, folder: Path, stats: dict[str, Any] | None = None) -> None:
    """`grist stats --html`: the shard folder, plus the run's report and documents when they sit
    next to it (OUTPUT/shards with OUTPUT/report.json and OUTPUT/documents)."""
    folder = Path(folder)
    body = shard_sections(folder, stats)
    run = folder.parent / "report.json"
    if run.is_file():
        report = json.loads(run.read_text())
        body = warnings_section(report.get("warnings", [])) + body + _run_sections(report) + classifier_section(report)
    body += _quality_section(folder.parent / "documents")
    atomic_write_bytes(Path(path), _page(f"grist shards: {folder}", body).encode())


def write_run_report(output: Path, report: dict[str, Any]) -> None:
    """`OUTPUT/report.html` at the end of every run, with whatever stages ran."""
    from pipelines import storage

    output = storage.location(output)
    body = [warnings_section(report.get("warnings", [])), f"<p class='muted'>{report.get('seconds', 0):.1f} s</p>",
            _run_sections(report), classifier_section(report), _quality_section(output / "documents")]
    stage = {s["name"]: s for s in report.get("stages", [])}
    shards_dir = output / "shards"
    if "shards" in stage and storage.is_remote(shards_dir):
        # Shard statistics read every shard; on an object store that is a download: left to `grist stats`.
        body.append(f"<h2>Shards</h2><p>{html.escape(str(shards_dir))}: run <code>grist stats</code> on it.</p>")
    elif "shards" in stage and (shards_dir / "manifest.json").is_file():
        body.append(shard_sections(shards_dir))
    elif "mixture" in stage:
        ex = stage["mixture"]["extra"]
        body.append(_mixture_section(ex.get("table", []), ex.get("warnings", []), ex.get("target_tokens")))
    atomic_write_bytes(output / "report.html", _page(f"grist run: {report.get('output', output)}", "".join(body)).encode())
