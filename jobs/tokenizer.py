"""Curate (if needed), plan the mixture and train the BPE tokenizer.

    ray job submit --working-dir . -- python -m jobs.tokenizer CONFIG.yaml [--output DIR] [--workers N]
"""

import sys

from jobs.entry import run_until

if __name__ == "__main__":
    sys.exit(run_until("tokenizer"))
