"""Shard statistics: grist stats SHARD_DIR [--json] [--html FILE]."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("shard_dir", help="a shards folder (with manifest.json)")
    p.add_argument("--json", action="store_true", help="print the statistics as JSON")
    p.add_argument("--html", metavar="FILE", help="also write an HTML report with plots")
    p.add_argument("--no-verify", action="store_true", help="skip the sha256 check of every shard")


def print_stats(st: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console(highlight=False)
    tk = st["tokenizer"]
    con.print(f"[bold]{st['folder']}[/]: {st['tokens']:,} tokens, {st['documents']:,} documents, "
              f"{st['shards']['count']} shards ({st['shards']['bytes'] / 1e6:,.1f} MB); tokenizer vocab "
              f"{tk['vocab_size']:,} ({tk['dtype']}), eot {tk['eot_id']}, sha256 {tk['sha256'][:12]}…")
    t = Table(title="per source", title_justify="left")
    for col in ("source", "tokens", "documents", "share", "target", "planned", "epochs"):
        t.add_column(col, justify="left" if col == "source" else "right")
    pct = lambda x: "" if x is None else f"{100 * x:.2f}%"  # noqa: E731
    for s in st["sources"]:
        epochs = "" if s["epochs"] is None else f"{s['epochs']:.2f}" + (" (capped)" if s["capped"] else "")
        t.add_row(s["source"], f"{s['tokens']:,}", f"{s['documents']:,}", pct(s["share"]), pct(s["target_share"]),
                  pct(s["planned_share"]), epochs)
    con.print(t)
    sp = Table(title="splits", title_justify="left")
    for col in ("split", "tokens", "documents", "shards"):
        sp.add_column(col, justify="left" if col == "split" else "right")
    for k, v in st["splits"].items():
        sp.add_row(k, f"{v['tokens']:,}", f"{v['documents']:,}", str(v["shards"]))
    con.print(sp)
    lt = Table(title="document length (tokens)", title_justify="left")
    for col in ("source", "mean", "p5", "p50", "p95", "p99", "max"):
        lt.add_column(col, justify="left" if col == "source" else "right")
    for s, v in st["lengths"].items():
        if v:
            lt.add_row(s, f"{v['mean']:,.1f}", *(f"{v[k]:,.0f}" for k in ("p5", "p50", "p95", "p99", "max")))
    con.print(lt)
    for w in st["warnings"]:
        con.print(f"[yellow]warning: {w}")
    ck = st["checksums"]
    if not ck["verified"]:
        con.print("checksums: not verified (--no-verify)")
    elif ck["ok"]:
        con.print(f"[green]checksums: all {ck['files']} shards and the tokenizer match the manifest")
    else:
        con.print(f"[red]checksums: {len(ck['problems'])} problems: " + "; ".join(ck["problems"]))


def main(args: argparse.Namespace) -> int:
    from pipelines.errors import ConfigError
    from shards.stats import compute_stats

    folder = Path(args.shard_dir)
    if not folder.is_dir():
        raise ConfigError(f"{folder}: not a folder")
    st = compute_stats(folder, verify=not args.no_verify)
    if args.json:
        json.dump(st, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print_stats(st)
    if args.html:
        from shards.html import write_stats_html

        write_stats_html(Path(args.html), folder, st)
        print(f"wrote {args.html}", file=sys.stderr)
    return 0 if st["checksums"]["ok"] else 1
