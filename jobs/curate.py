"""Curate: read, filter and deduplicate the sources into OUTPUT/documents/.

    ray job submit --working-dir . -- python -m jobs.curate CONFIG.yaml [--output DIR] [--workers N]
"""

import sys

from jobs.entry import run_until

if __name__ == "__main__":
    sys.exit(run_until("dedup"))
