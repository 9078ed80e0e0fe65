"""Train the bundled GPT on shards as a job (give it a GPU with --entrypoint-num-gpus 1):

    ray job submit --entrypoint-num-gpus 1 --working-dir . -- python -m jobs.train --data out/demo/shards
"""

import sys

from jobs.entry import passthrough

if __name__ == "__main__":
    sys.exit(passthrough("train"))
