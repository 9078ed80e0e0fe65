"""report.json (per stage: docs in/out, dropped by reason, bytes, seconds; per source; the run's
loud `warnings`) and the summary printed at the end of a run, warnings first."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from rich.table import Table

from pipelines.progress import console

if TYPE_CHECKING:
    from pipelines.run import Pipeline


def build_report(pipe: "Pipeline", seconds: float) -> dict[str, Any]:
    stages = []
    per_source: dict[str, dict[str, Any]] = defaultdict(lambda: {"docs_in": 0, "docs_out": 0, "dropped": defaultdict(int)})
    doc_stages = []
    for name, res in pipe.results.items():
        s = res.stats.to_json()
        s["name"] = name
        del s["part"], s["source"]
        s["extra"] = res.extra
        stages.append(s)
        by_src: dict[str, dict[str, Any]] = defaultdict(lambda: {"docs_in": 0, "docs_out": 0, "dropped": defaultdict(int)})
        for p in res.parts:
            if not p.source:
                continue
            b = by_src[p.source]
            b["docs_in"] += p.docs_in
            b["docs_out"] += p.docs_out
            for r, n in p.dropped.items():
                b["dropped"][r] += n
        s["sources"] = {k: {**v, "dropped": dict(v["dropped"])} for k, v in sorted(by_src.items())}
        if res.parts and any(p.source for p in res.parts):
            doc_stages.append((name, by_src))
    # Per source over the whole curation: records read, documents kept, drops by stage:reason.
    for i, (name, by_src) in enumerate(doc_stages):
        for src, b in by_src.items():
            ps = per_source[src]
            if i == 0:
                ps["docs_in"] = b["docs_in"]
            ps["docs_out"] = b["docs_out"]
            for r, n in b["dropped"].items():
                ps["dropped"][f"{name}:{r}"] += n
    first = stages[0] if stages else {"docs_in": 0}
    total_dropped = sum(sum(s["dropped"].values()) for s in stages if s["name"] in dict(doc_stages))
    final_docs = doc_stages[-1][1] if doc_stages else {}
    kept = sum(b["docs_out"] for b in final_docs.values())
    report = {
        "version": 1,
        "output": str(pipe.output),
        "seconds": round(seconds, 3),
        "stages": stages,
        "skipped_stages": pipe.skipped,
        # Ray start, and per stage: parts' own work vs distributed overhead vs driver time.
        "fixed_costs": getattr(pipe, "fixed_costs", {}),
        "sources": {k: {**v, "dropped": dict(sorted(v["dropped"].items()))} for k, v in sorted(per_source.items())},
        "accounting": {
            "records_in": first["docs_in"],
            "documents": kept,
            "dropped": total_dropped,
            "balanced": first["docs_in"] == kept + total_dropped,
        },
    }
    report["warnings"] = run_warnings(report, pipe.cfg.filters.quality.max_drop_fraction)
    return report


# Read-stage drops of records that are not documents of the source's content (crawl responses that
# are images, scripts or error pages; wiki talk pages and redirects; binary files in a repo): a
# WARC that is 90% images has lost nothing.
NOT_CONTENT = ("non_html", "http_status_", "redirect", "non_article_namespace", "binary_file")
MIXTURE_TOLERANCE = 0.01  # a source's share of tokens more than 1 point off its target
# Over the whole run, a source that keeps less than this share of its documents (not counting
# non-content records and the quality classifier's intended cut, which warns by its own rule) has
# lost most of its data to rules that were not meant to cut it that deep: say so at the top.
MIN_KEPT_SHARE = 0.5


def run_warnings(report: dict[str, Any], max_drop: float) -> list[str]:
    """What a person must see first: the classifier's own warnings (weak, expected losses), any
    source that lost more than `max_drop` of its documents in one stage, and, when the mixture
    capped a source, every share that moved more than a point off its target."""
    out: list[str] = []
    for s in report["stages"]:
        q = s.get("extra", {}).get("quality", {})
        out += q.get("warnings", [])
        if q.get("skipped"):  # switched on but nothing to train on: the user expected a quality cut
            out.append(f"quality classifier not applied: {q['skipped']} (filters.quality.positives / negatives name "
                       f"the reference and raw-web sources; give a model with filters.quality.model, or set "
                       f"filters.quality.enabled: false)")
    for s in report["stages"]:
        for src, b in s.get("sources", {}).items():
            lost = {r: n for r, n in b["dropped"].items() if n and not (s["name"] == "read" and r.startswith(NOT_CONTENT))}
            base = b["docs_in"] - (sum(b["dropped"].values()) - sum(lost.values()))
            if base and sum(lost.values()) > max_drop * base:
                out.append(f"{src!r} lost {100 * sum(lost.values()) / base:.1f}% of its documents in stage {s['name']} "
                           f"({sum(lost.values()):,} of {base:,}: {_top_reasons(lost)}; max_drop_fraction {max_drop:g})")
    warned = {src for s in report["stages"] for src in s.get("sources", {}) if any(w.startswith(f"{src!r} lost") for w in out)}
    for src, b in report.get("sources", {}).items():
        content = {r: n for r, n in b["dropped"].items()
                   if n and not r.startswith(tuple(f"read:{x}" for x in NOT_CONTENT)) and ":quality_" not in r}
        base = b["docs_in"] - (sum(b["dropped"].values()) - sum(content.values()))
        if src not in warned and base and b["docs_out"] < MIN_KEPT_SHARE * base:
            out.append(f"{src!r} kept {b['docs_out']:,} of {base:,} documents over the run "
                       f"({100 * (1 - b['docs_out'] / base):.1f}% lost: {_top_reasons(content)})")
    rows, realized = mixture_rows(report)
    if not any(r["capped"] for r in rows):  # whole documents alone can miss a share by a point: not a cap
        return out
    for r in rows:
        share = r["realized_share"] if realized else r["planned_share"]
        if abs(share - r["target_share"]) > MIXTURE_TOLERANCE:
            why = (f"capped: {r['available_tokens']:,} tokens a pass, max_epochs {r['max_epochs']:g}" if r["capped"]
                   else "renormalised: other sources were capped")
            out.append(f"mixture: {r['source']!r} gets {100 * share:.2f}% of the tokens, target {100 * r['target_share']:.2f}% "
                       f"({why})")
    return out


def mixture_rows(report: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
    """The mixture table (realized by the shards stage, else planned by the mixture stage) and
    whether it is the realized one."""
    extras = {s["name"]: s.get("extra", {}) for s in report["stages"]}
    rows = extras.get("shards", {}).get("mixture") or extras.get("mixture", {}).get("table") or []
    return rows, bool(rows) and "realized_tokens" in rows[0]


def _top_reasons(dropped: dict[str, int], n: int = 3) -> str:
    items = sorted(dropped.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ", ".join(f"{r} {c:,}" for r, c in items[:n])
    return shown + (f", +{len(items) - n} more" if len(items) > n else "")


def print_summary(report: dict[str, Any]) -> None:
    _print_warnings(report.get("warnings", []))
    t = Table(title=f"grist run: {report['output']}  ({report['seconds']:.1f} s)", title_justify="left")
    for col in ("stage", "docs in", "kept", "dropped", "top reasons", "MB in", "MB out", "s", "docs/s"):
        t.add_column(col, justify="left" if col in ("stage", "top reasons") else "right")
    for s in report["stages"]:
        secs = max(s["seconds"], 1e-9)
        t.add_row(s["name"], f"{s['docs_in']:,}", f"{s['docs_out']:,}", f"{sum(s['dropped'].values()):,}",
                  _top_reasons(s["dropped"]), f"{s['bytes_in'] / 1e6:,.2f}", f"{s['bytes_out'] / 1e6:,.2f}",
                  f"{s['seconds']:.1f}", f"{s['docs_in'] / secs:,.0f}")
    console.print(t)
    if report["sources"]:
        st = Table(title="per source", title_justify="left")
        for col in ("source", "records", "documents", "kept %", "top reasons"):
            st.add_column(col, justify="left" if col in ("source", "top reasons") else "right")
        for name, s in report["sources"].items():
            pct = 100.0 * s["docs_out"] / s["docs_in"] if s["docs_in"] else 0.0
            st.add_row(name, f"{s['docs_in']:,}", f"{s['docs_out']:,}", f"{pct:.1f}", _top_reasons(s["dropped"]))
        console.print(st)
    _print_quality(report)
    _print_mixture(report)
    _print_fixed_costs(report.get("fixed_costs") or {}, report["seconds"])
    a = report["accounting"]
    ok = "[green]balanced" if a["balanced"] else "[red]NOT balanced"
    console.print(f"accounting: {a['records_in']:,} records = {a['documents']:,} documents + {a['dropped']:,} dropped  {ok}")


def _print_fixed_costs(fixed: dict[str, Any], seconds: float) -> None:
    """One line: how much of the run was fixed cost (Ray start, pool start-up and scheduling,
    driver-side planning) rather than the parts' own work."""
    stages = fixed.get("stages") or {}
    if not stages:
        return
    overhead = sum(c["overhead_s"] for c in stages.values())
    driver = sum(c["driver_s"] for c in stages.values())
    work = sum(c["work_s"] for c in stages.values())
    console.print(f"time: {seconds:.1f} s = Ray start {fixed.get('ray_start_s', 0):.1f} s + distributed overhead "
                  f"{overhead:.1f} s + driver {driver:.1f} s + parts' work ({work:.1f} CPU-s over the workers); "
                  "per stage in report.json fixed_costs")


def _print_warnings(warnings: list[str]) -> None:
    if warnings:
        console.print(f"[bold red]{len(warnings)} warning{'s' if len(warnings) > 1 else ''} (also at the top of report.html):")
        for w in warnings:
            console.print(f"[bold red]  ! {w}")


def _pct(x: float | None) -> str:
    return "" if x is None else f"{100 * x:.1f}%"


def _print_quality(report: dict[str, Any]) -> None:
    """The classifier: training size, held-out figures, per scored source its scores and the
    keep rate expected before the run vs the one realized."""
    q = next((s.get("extra", {}).get("quality") for s in report["stages"] if s["name"] == "filters"), None)
    if not q or q.get("skipped"):
        return
    from filters.quality_checks import training_line

    head = training_line(q["metrics"]) if q.get("metrics") else f"given model {q.get('model')}"
    console.print(f"quality classifier: {head}; keep: {q.get('effective_keep', q['keep'])}")
    if q.get("sources"):
        qt = Table(title="quality classifier per scored source", title_justify="left")
        for col in ("source", "scored (sample)", "p10", "p50", "p90", "IQR", "expected keep", "realized keep"):
            qt.add_column(col, justify="left" if col == "source" else "right")
        for name, r in q["sources"].items():
            qt.add_row(name, f"{r.get('scored', 0):,}", *(f"{r[k]:.4f}" if k in r else "" for k in ("p10", "p50", "p90", "iqr")),
                       _pct(r.get("expected_keep")), _pct(r.get("realized_keep")))
        console.print(qt)


def _print_mixture(report: dict[str, Any]) -> None:
    """The GPT-3 table of this run: target vs realized tokens, share and epochs per source."""
    rows, realized = mixture_rows(report)
    if not rows:
        return
    extras = {s["name"]: s.get("extra", {}) for s in report["stages"]}
    mt = Table(title="mixture" + ("" if realized else " (planned from estimated token counts)"), title_justify="left")
    for col in ("source", "weight", "target share", "target tokens", "realized tokens" if realized else "planned tokens",
                "share", "epochs", "max epochs"):
        mt.add_column(col, justify="left" if col == "source" else "right")
    for r in rows:
        tokens = r["realized_tokens"] if realized else r["planned_tokens"]
        share = r["realized_share"] if realized else r["planned_share"]
        epochs = r["realized_epochs"] if realized else r["epochs"]
        mt.add_row(r["source"], f"{r['weight']:g}", f"{100 * r['target_share']:.2f}%", f"{r['planned_tokens']:,}",
                   f"{tokens:,}", f"{100 * share:.2f}%", f"{epochs:.2f}" + (" capped" if r["capped"] else ""),
                   f"{r['max_epochs']:g}")
    console.print(mt)
    for w in extras.get("shards", extras.get("mixture", {})).get("warnings", []):
        console.print(f"[yellow]warning: {w}")
