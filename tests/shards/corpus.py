"""Generated jsonl sources for the mixture/tokenizer/shards tests: English-like prose, Chinese and
code (with emoji), sized so that shares can be checked to 1% and one source hits its epochs cap."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from tests.conftest import write_jsonl

SYLLABLES = "ka lo mi ne ru ta shi ven dor al ex im on ur ba ce di fo gu he ja ko li mu".split()


def _words(rng: random.Random, n: int) -> list[str]:
    vocab = ["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 3))) for _ in range(600)]
    return [rng.choice(vocab) for _ in range(n)]


def english(rng: random.Random) -> str:
    sents = []
    for _ in range(rng.randint(4, 9)):
        w = _words(rng, rng.randint(6, 16))
        sents.append(" ".join(w).capitalize() + rng.choice([".", ".", "!", "?"]))
    return " ".join(sents)


def chinese(rng: random.Random) -> str:
    common = "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明社"
    out = []
    for _ in range(rng.randint(5, 10)):
        out.append("".join(rng.choice(common) for _ in range(rng.randint(8, 20))) + rng.choice("，。！？"))
    return "".join(out)


def code(rng: random.Random) -> str:
    name = "_".join(_words(rng, 2))
    body = "\n".join(f"    {v} = {v} * {rng.randint(1, 99)} + len({name!r})  # {rng.choice(['ok', 'todo 🚀', 'fix ✨', 'é'])}"
                     for v in _words(rng, rng.randint(3, 8)))
    return f"def {name}(x, y=None):\n{body}\n\treturn x\r\n"


GENERATORS = {"web": english, "zh": chinese, "code": code}


def make_sources(root: Path, docs: dict[str, int], weights: dict[str, float], files: int = 2,
                 **per_source: dict[str, Any]) -> list[dict[str, Any]]:
    """jsonl files under root/NAME/ and the `sources` config entries for them."""
    sources = []
    for name, n in docs.items():
        rng = random.Random(f"{name}-{n}")
        gen = GENERATORS[name]
        rows = [{"id": f"{name}-{i:05d}", "text": gen(rng)} for i in range(n)]
        for f in range(files):
            write_jsonl(root / name / f"{f:02d}.jsonl", rows[f::files])
        sources.append({"name": name, "kind": "jsonl", "paths": [str(root / name / "*.jsonl")],
                        "weight": weights[name], **per_source.get(name, {})})
    return sources


WEIGHTS = {"web": 0.5, "zh": 0.3, "code": 0.2}
DOCS = {"web": 800, "zh": 200, "code": 150}
TARGET_TOKENS = 300_000
TOKENS_PER_SHARD = 50_000
_RUNS: dict[Any, Any] = {}


def full_run(tmp_path_factory, workers: int):
    """The whole product chain on the generated corpus (cached per session and worker count; the
    runs share one data folder so that their configs, and so their shards, can be identical).
    `code` is capped at 2 epochs, below its 20% share, so the others are renormalised."""
    from tests.conftest import make_config, run_config

    if "data" not in _RUNS:
        _RUNS["data"] = make_sources(tmp_path_factory.mktemp("corpus"), DOCS, WEIGHTS, code={"max_epochs": 2})
    if workers not in _RUNS:
        cfg = make_config(tmp_path_factory.mktemp(f"run{workers}"), _RUNS["data"],
                          mixture={"target_tokens": TARGET_TOKENS},
                          tokenizer={"vocab_size": 512, "sample_chars": 200_000},
                          shards={"tokens_per_shard": TOKENS_PER_SHARD, "val_fraction": 0.05,
                                  "exports": ["nanogpt", "megatron"]})
        report = run_config(cfg, workers=workers)
        _RUNS[workers] = (cfg, report, Path(cfg.output))
    return _RUNS[workers]
