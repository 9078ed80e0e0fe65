"""kind -> reader. Imported lazily so that a worker only loads the parsers it needs."""

from __future__ import annotations

import importlib

from pipelines.sources.base import Reader

READERS = {
    "web": "pipelines.sources.web:read_web",
    "books": "pipelines.sources.books:read_books",
    "encyclopedia": "pipelines.sources.encyclopedia:read_encyclopedia",
    "code": "pipelines.sources.code:read_code",
    "jsonl": "pipelines.sources.tabular:read_jsonl",
    "parquet": "pipelines.sources.tabular:read_parquet",
}


def get_reader(kind: str) -> Reader:
    module, func = READERS[kind].split(":")
    return getattr(importlib.import_module(module), func)
