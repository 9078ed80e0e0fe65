"""Run the configured stages: grist run CONFIG.yaml [--output DIR] [--workers N]."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", help="YAML config")
    p.add_argument("--output", help="override the config's `output`")
    p.add_argument("--workers", type=int, help="actors per stage (default: the cluster's CPUs)")
    p.add_argument("--until", metavar="STAGE", help="stop after this stage (read, filters, dedup, mixture, tokenizer, shards)")
    p.add_argument("--overwrite", action="store_true",
                   help="let the run replace documents/, dropped/, shards/, ... in an output grist did not create")


def main(args: argparse.Namespace) -> int:
    from pipelines.config import load_config
    from pipelines.errors import ConfigError, disk_full
    from pipelines.output_guard import OutputLock, check_paths

    if args.workers is not None and args.workers < 1:
        raise ConfigError("--workers: must be >= 1")
    overrides = {"output": args.output} if args.output else None
    cfg = load_config(args.config, overrides)  # fails fast, before Ray starts
    check_paths(cfg, overwrite=args.overwrite)  # likewise: output and tokenizer paths
    from pipelines.report import print_summary
    from pipelines.run import run_pipeline
    from pipelines.runner import shutdown_ray

    try:
        with OutputLock(cfg.output):
            report = run_pipeline(cfg, workers=args.workers, until=args.until)
    except Exception as err:
        full = disk_full(err, cfg.output)
        if full is not None:
            raise full from None
        raise
    finally:
        shutdown_ray()
    print_summary(report)
    return 0 if report["accounting"]["balanced"] else 1
