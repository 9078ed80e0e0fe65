"""The whole pipeline: curate, mix, train the tokenizer, write tokenized shards.

    ray job submit --working-dir . -- python -m jobs.shards CONFIG.yaml [--output DIR] [--workers N]
"""

import sys

from jobs.entry import run_until

if __name__ == "__main__":
    sys.exit(run_until(None))
