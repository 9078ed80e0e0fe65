"""Shard statistics as a job: python -m jobs.stats SHARD_DIR [--json] [--html FILE]."""

import sys

from jobs.entry import passthrough

if __name__ == "__main__":
    sys.exit(passthrough("stats"))
