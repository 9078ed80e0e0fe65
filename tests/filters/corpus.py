"""A small generated corpus with two registers (reference prose vs. commercial web text), for the
stage tests that must not wait for the bundled sample corpus. Deterministic: a seeded Random."""

from __future__ import annotations

import random
from pathlib import Path

from tests.conftest import write_jsonl

NOUNS = ("river", "castle", "treaty", "observatory", "harbour", "railway", "monastery", "glacier", "bridge",
         "library", "university", "parliament", "valley", "cathedral", "colony", "mine", "canal", "market")
PRODUCTS = ("sneakers", "headphones", "laptop bags", "phone cases", "vitamins", "sunglasses", "watches",
            "coffee makers", "gaming chairs", "yoga mats", "air fryers", "smart bulbs")


def _doc(rng: random.Random, templates) -> str:
    """Every template once, in a random order, over two paragraphs: no long repeated n-grams."""
    sentences = [t() for t in rng.sample(templates, len(templates))]
    cut = rng.randint(2, len(sentences) - 2)
    return " ".join(sentences[:cut]) + "\n\n" + " ".join(sentences[cut:])


def reference_doc(rng: random.Random) -> str:
    def slots():
        a, b = rng.sample(NOUNS, 2)
        return a, b, rng.randint(1200, 1950)

    return _doc(rng, [lambda t=t: t(*slots()) for t in (
        lambda a, b, y: f"The {a} was first recorded in {y}, when it was described by contemporary chroniclers as part of the {b}.",
        lambda a, b, y: f"According to the surviving records, the construction of the {a} lasted until {y + rng.randint(3, 40)}.",
        lambda a, b, y: f"Historians have argued that this {a} played a central role in the development of the nearby {b}.",
        lambda a, b, y: f"During the {rng.choice(('early', 'late'))} period it was extended and its administration was reformed.",
        lambda a, b, y: f"In {y} a regional council commissioned a survey, which was published two years later.",
        lambda a, b, y: f"It is mentioned in several documents of the period, although its exact origin remains uncertain.",
        lambda a, b, y: f"Excavations carried out in {y} revealed foundations older than any written source suggests.",
        lambda a, b, y: f"Scholars still debate whether the {b} predates it or was founded by the same community.",
    )])


def web_doc(rng: random.Random) -> str:
    def slots():
        p, q = rng.sample(PRODUCTS, 2)
        return p, q, rng.choice((10, 15, 20, 25, 30, 50))

    return _doc(rng, [lambda t=t: t(*slots()) for t in (
        lambda p, q, n: f"Get the best deals on {p} today and save {n}% on your order!",
        lambda p, q, n: f"Click here to shop our huge selection with free shipping on all orders over ${rng.randint(20, 99)}.",
        lambda p, q, n: f"Don't miss out, these {p} are selling fast so grab yours now before they're gone!",
        lambda p, q, n: f"Sign up for our newsletter and you'll get {n}% off your first pair of {q}.",
        lambda p, q, n: f"Looking for cheap {q}? You've come to the right place, we have tons of great offers.",
        lambda p, q, n: f"Check out our top picks, you won't believe these prices!",
        lambda p, q, n: f"Hurry, this sale ends at midnight and stock is limited.",
        lambda p, q, n: f"Customers love our {p}, read the reviews and order yours with one click.",
    )])


def write_corpus(root: Path, n_ref: int = 120, n_web: int = 120, web_files: int = 3, seed: int = 1) -> dict[str, list[dict]]:
    """ref.jsonl (reference register) and web-K.jsonl (web register, split over several files so
    that a stage has several parts to spread over workers). Returns jsonl source entries."""
    rng = random.Random(seed)
    write_jsonl(root / "ref.jsonl", [{"id": f"ref-{i}", "text": reference_doc(rng)} for i in range(n_ref)])
    per = n_web // web_files
    for k in range(web_files):
        write_jsonl(root / f"web-{k}.jsonl", [{"id": f"web-{k}-{i}", "text": web_doc(rng)} for i in range(per)])
    return {
        "ref": {"name": "ref", "kind": "jsonl", "paths": [str(root / "ref.jsonl")]},
        "web": {"name": "web", "kind": "jsonl", "paths": [str(root / "web-*.jsonl")]},
    }
