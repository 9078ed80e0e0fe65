"""`grist` command line. Subcommands live in their own modules (`add_arguments(parser)` and
`main(args) -> int`); exit 0 on success, 2 on a bad config or arguments, 1 on a failed run."""

from __future__ import annotations

import argparse
import importlib
import sys

from pipelines.errors import GristError, disk_full

SUBCOMMANDS = {
    "run": "pipelines.run_cli",
    "stats": "shards.stats_cli",
    "quality": "filters.quality_cli",
    "train": "trainer.cli",
    "submit": "jobs.cli_submit",
    "status": "jobs.cli_status",
    "stop": "jobs.cli_stop",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        print(f"grist: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="grist", description="pretraining-data curation on Ray")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, module in SUBCOMMANDS.items():
        mod = importlib.import_module(module)
        p = sub.add_parser(name, help=(mod.__doc__ or "").strip().splitlines()[0] if mod.__doc__ else None)
        mod.add_arguments(p)
        p.set_defaults(_main=mod.main)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args._main(args) or 0)
    except GristError as err:
        print(f"grist: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("grist: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    except Exception as err:  # a full disk is one line in every subcommand; anything else keeps its traceback
        full = disk_full(err, str(getattr(args, "output", None) or "the output folder"))
        if full is None:
            raise
        print(f"grist: {full}", file=sys.stderr)
        return full.exit_code


if __name__ == "__main__":
    sys.exit(main())
