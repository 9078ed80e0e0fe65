"""What a reader yields: a `Doc` or a `Drop` per input record, in file order.

A reader is a generator function `read(path, src, read_cfg) -> Iterator[Doc | Drop]` over one input
path (a file, or a directory for `code`). It never raises on a bad record: it yields a `Drop` with
a named reason and goes on with the rest of the file where that is possible. A failure that ends the
file early (truncated gzip, truncated WARC) is one `Drop` too, after the records read before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Union

from pipelines.config import ReadConfig, SourceConfig


@dataclass
class Doc:
    text: str
    meta: dict[str, Any] = field(default_factory=dict)
    id: str | None = None  # a natural id (jsonl `id`, repo/path); else derived from the position


@dataclass
class Drop:
    reason: str  # snake_case, e.g. "non_html", "http_status_404", "truncated_gzip"
    id: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Note:
    """Not a record: a fact about the reading, counted in the part's stats (`counter`) and logged,
    e.g. a piece of a file that cannot be split read whole. Yielded only by ranged reads."""
    counter: str
    message: str = ""


Record = Union[Doc, Drop]
Reader = Callable[[str, SourceConfig, ReadConfig], Iterator[Record]]


def truncate_text(text: str, max_bytes: int) -> tuple[str, bool]:
    """Cut a text to at most `max_bytes` UTF-8 bytes on a character boundary."""
    if len(text) * 4 <= max_bytes:
        return text, False
    raw = text.encode("utf-8")
    if len(raw) <= max_bytes:
        return text, False
    return raw[:max_bytes].decode("utf-8", errors="ignore"), True
