"""The read stage: input files become parts of documents of about `runtime.part_mb` MB
(small files grouped, large splittable ones cut; pipelines/partition.py).

Ids: a code file's repo/path is kept; a jsonl/parquet record's own id becomes `SOURCE/FILE_INDEX/ID`
(the id itself in meta["id"]); otherwise the id is `SOURCE/FILE_INDEX/RECORD_INDEX` from the sorted file list (`SOURCE/FILE_INDEX@START/RECORD_INDEX`
for a piece of a split file — jsonl, WARC, dump — START its range's first byte or first row group, RECORD_INDEX
counted within the piece), so ids never depend on workers.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any

from pipelines import storage
from pipelines.config import Config, ReadConfig, SourceConfig
from pipelines.document import DOC_SCHEMA, documents_table, dropped_table
from pipelines.parts import PartWriter
from pipelines.sources.base import Doc, Note, truncate_text
from pipelines.partition import plan_read_parts
from pipelines.sources.files import boundary_drop
from pipelines.sources.registry import get_reader
from pipelines.sources.textnorm import normalize_text, scrub_surrogates, scrub_value
from pipelines.stage import Stage, StageContext, StageResult, merge_parts
from pipelines.step import Resources

STAGE = "read"
log = logging.getLogger(__name__)
# Kinds whose records carry the user's own id (exported shards often restart ids at 0 in every
# file): the document id is `SOURCE/FILE_INDEX/USER_ID`, unique by construction, so two files'
# "id": 7 never merge in dedup, mixture or shards; the user's id stays in meta["id"].
QUALIFIED_KINDS = ("jsonl", "parquet")


def read_specs(cfg: Config, base_dir: Path | None = None) -> list[dict[str, Any]]:
    """The read stage's parts (pipelines/partition.py): bounded in size, named by content."""
    return plan_read_parts(cfg, base_dir)


class ReadPartTask:
    """Reads one input path with its source's reader and commits one part."""

    resources = Resources(cpus=1)

    def __init__(self, sources: list[SourceConfig], read_cfg: ReadConfig, work: Path):
        self.sources = {s.name: s for s in sources}
        self.cfg = read_cfg
        self.work = storage.location(work)

    def setup(self) -> None:
        pass

    def run(self, spec: dict[str, Any]) -> dict[str, Any]:
        src = self.sources[spec["source"]]
        reader = get_reader(src.kind)
        writer = PartWriter(self.work, spec["part"], src.name, key=spec.get("key", ""))
        docs: list[dict] = []
        drops: list[dict] = []
        seen_ids: set[str] = set()
        try:
            for file in spec.get("files") or [spec]:  # a group of small files, a piece, or one file
                shown = file.get("shown_path", file["path"])
                start = (file.get("range") or file.get("row_groups") or [None])[0]
                prefix = f"{src.name}/{file['file_index']:05d}" + (f"@{start}" if start is not None else "")
                try:
                    self._read(file, src, reader, writer, prefix, shown, docs, drops, seen_ids)
                except Exception as e:  # no input may end a run: the rest of this file is one named drop
                    drops.append({"id": f"{prefix}/error", "source": src.name, "stage": STAGE,
                                  "reason": f"reader_error:{type(e).__name__}", "meta": {"path": shown}})
                seen_ids.clear()  # a natural id repeated within one file is a drop (across files: dedup's job)
            self._flush(writer, docs, drops)
            writer.stats.bytes_in = int(spec.get("size", 0))  # input bytes as stored (compressed)
            return writer.commit(DOC_SCHEMA).to_json()
        except BaseException:
            writer.abort()
            raise

    def _read(self, spec, src, reader, writer, prefix, shown, docs, drops, seen_ids) -> None:
        refused = boundary_drop(spec["path"], spec.get("root", spec["path"]))
        if refused:
            drops.append({"id": f"{prefix}/refused", "source": src.name, "stage": STAGE, "reason": refused,
                          "meta": {"path": shown}})
            return
        extra = ({"byte_range": tuple(spec["range"])} if spec.get("range")
                 else {"row_groups": tuple(spec["row_groups"])} if spec.get("row_groups") else {})
        qualify = src.kind in QUALIFIED_KINDS
        n = -1
        for rec in reader(spec["path"], src, self.cfg, **extra):
            if isinstance(rec, Note):  # e.g. a piece of a file that cannot be split, read whole
                writer.stats.counters[rec.counter] += 1
                log.info("%s", rec.message)
                continue
            n += 1
            # Documents and drops alike: the input file, then what the reader knows (url, line, ...).
            meta = {"path": shown, **scrub_value(rec.meta)}
            if rec.id is None:
                rid = f"{prefix}/{n:07d}"
            elif qualify:  # a user's id is unique in its file at best: qualify it, keep it in meta
                rid = f"{prefix}/{rec.id}"
                meta["id"] = scrub_value(rec.id)
            else:
                rid = rec.id
            if isinstance(rid, str):
                rid = scrub_surrogates(rid)[0]
            if isinstance(rec, Doc):
                if rid in seen_ids:  # a natural id repeated inside one file
                    drops.append({"id": rid, "source": src.name, "stage": STAGE, "reason": "duplicate_id",
                                  "meta": meta})
                    continue
                seen_ids.add(rid)
                text, surrogates = scrub_surrogates(rec.text)
                self._count(writer, "replaced_surrogates", surrogates)
                text, newlines, controls = normalize_text(text)
                self._count(writer, "normalised_newlines", newlines)
                self._count(writer, "removed_control_chars", controls)
                text, cut = truncate_text(text, self.cfg.max_doc_bytes)
                if cut:
                    writer.stats.counters["truncated_max_doc_bytes"] += 1
                docs.append({"id": rid, "source": src.name, "text": text, "meta": meta})
            else:
                drops.append({"id": rid, "source": src.name, "stage": STAGE, "reason": rec.reason, "meta": meta})
            if len(docs) + len(drops) >= self.cfg.batch_rows:
                self._flush(writer, docs, drops)

    @staticmethod
    def _count(writer: PartWriter, name: str, hit: bool) -> None:
        if hit:
            writer.stats.counters[name] += 1

    @staticmethod
    def _flush(writer: PartWriter, docs: list[dict], drops: list[dict]) -> None:
        if not docs and not drops:
            return
        kept = documents_table(docs)
        writer.count_in(len(docs) + len(drops), 0)
        writer.write_kept(kept)
        writer.write_dropped(dropped_table(drops))
        docs.clear()
        drops.clear()


class ReadStage(Stage):
    name = STAGE
    config_keys = ("sources!weight,max_epochs", "read")

    def enabled(self, cfg: Config) -> bool:
        return True

    def plan_inputs(self, cfg: Config, base_dir: Path | None) -> list[dict[str, Any]]:
        """The parts to read, planned once per run; their content names go into the stage's marker
        hash, so a changed or added file is new work (and unchanged parts are reused)."""
        return read_specs(cfg, base_dir)

    def run(self, ctx: StageContext) -> StageResult:
        specs = ctx.specs if ctx.specs is not None else read_specs(ctx.cfg, ctx.base_dir)
        factory = functools.partial(ReadPartTask, ctx.cfg.sources, ctx.cfg.read, ctx.work)
        parts = ctx.map_parts(factory, specs, label=STAGE)
        return StageResult(stats=merge_parts(parts), parts=parts)
