"""Shards: identical for any worker count, readable by pyarrow / HF datasets / DuckDB, checksummed,
exported for nanoGPT and Megatron, described by `grist stats` and the HTML reports."""

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.cli import main as grist
from shards.export import read_megatron_index
from shards.format import Manifest, flat_tokens, open_shard, verify_shards
from tests.conftest import dir_bytes, make_config, run_config
from tests.shards.corpus import TOKENS_PER_SHARD, full_run, make_sources


@pytest.fixture(scope="module")
def run(ray_local, tmp_path_factory):
    return full_run(tmp_path_factory, workers=1)


def _shards(out, split=None):
    m = Manifest.load(out / "shards")
    return m, [out / "shards" / s.file for s in m.files(split)]


def test_one_and_two_workers_give_byte_identical_shards(run, tmp_path_factory):
    _, _, out1 = run
    _, _, out2 = full_run(tmp_path_factory, workers=2)
    a, b = dir_bytes(out1 / "shards"), dir_bytes(out2 / "shards")
    assert len(a) > 5 and a == b


def test_shards_written_by_workers_are_byte_identical(run, tmp_path_factory, monkeypatch):
    """The run above writes its few shards on the driver (under `ShardStage.inline_tokens`); here
    every shard group is a part task on two workers: same bytes."""
    from shards.stage import ShardStage

    cfg, _, out1 = run
    monkeypatch.setattr(ShardStage, "inline_tokens", -1)
    cfg2 = cfg.model_copy(update={"output": str(tmp_path_factory.mktemp("on-workers") / "out")})
    report = run_config(cfg2, workers=2)
    shards_stage = next(s for s in report["stages"] if s["name"] == "shards")
    assert shards_stage["extra"]["write_tasks"] > 1
    assert dir_bytes(out1 / "shards") == dir_bytes(Path(cfg2.output) / "shards")


def test_shards_sorted_with_their_tokens_are_byte_identical(run, tmp_path_factory):
    """On an object store the sort carries each document's tokens (shards/gather.py) and writers
    read no token part (`shards.carry_tokens: auto`); asked for on local disk: the same bytes.
    tests/pipelines/test_cluster_s3.py takes the same path on a real S3 server."""
    cfg, _, out1 = run
    cfg2 = cfg.model_copy(update={"output": str(tmp_path_factory.mktemp("carried") / "out"),
                                  "shards": cfg.shards.model_copy(update={"carry_tokens": "always"})})
    run_config(cfg2, workers=2)
    scattered = list((Path(cfg2.output) / "_work").glob("*-shards/scatter-*/rows/*.parquet"))
    assert scattered and all("toks" in pq.ParquetFile(f).schema_arrow.names for f in scattered)
    assert dir_bytes(out1 / "shards") == dir_bytes(Path(cfg2.output) / "shards")


def test_pyarrow_memory_map_reads_zero_copy(run):
    _, _, out = run
    m, files = _shards(out)
    assert m.dtype == "uint16" and m.vocab_size <= 512
    before = pa.total_allocated_bytes()
    for f, info in zip(files, m.shards):
        table = open_shard(f)
        assert table.schema.field("tokens").type == pa.list_(pa.field("item", pa.uint16(), nullable=False))
        assert table.schema.metadata[b"grist.split"].decode() == info.split
        flat, offsets = flat_tokens(table)
        assert len(flat) == info.tokens and table.num_rows == info.documents
        assert (flat[offsets[1:] - 1] == m.eot_id).all()  # every document ends with <|endoftext|>
        assert (np.diff(offsets) > 1).all()
    assert pa.total_allocated_bytes() == before  # memory-mapped: nothing copied


def test_hf_datasets_and_duckdb_read_the_shards(run):
    import datasets
    import duckdb
    import pyarrow.dataset as pads

    _, _, out = run
    m, files = _shards(out, "train")
    ds = datasets.load_dataset("arrow", data_files=[str(f) for f in files], split="train")
    assert len(ds) == sum(s.documents for s in m.files("train"))
    first = open_shard(files[0])
    assert ds[0]["tokens"] == first.column("tokens")[0].as_py() and ds[0]["id"] == first.column("id")[0].as_py()
    shard_ds = pads.dataset([str(f) for f in files], format="ipc")  # noqa: F841 (scanned by DuckDB)
    rows = duckdb.sql("select source, count(*) d, sum(len(tokens)) t from shard_ds group by source order by source").fetchall()
    totals = m.totals()["train"]
    assert rows == [(s, totals["documents_by_source"][s], totals["tokens_by_source"][s]) for s in sorted(totals["tokens_by_source"])]


def test_shard_sizes_splits_and_order(run):
    _, _, out = run
    m, _ = _shards(out)
    train = m.files("train")
    assert [s.file for s in train] == [f"shard-{i:05d}.arrow" for i in range(len(train))]
    assert all(abs(s.tokens - TOKENS_PER_SHARD) < 300 for s in train[:-1])  # within one document
    assert all(len(s.tokens_by_source) == 3 for s in train)  # sources shuffled together
    ids = {split: {i for f in m.files(split) for i in open_shard(out / "shards" / f.file).column("id").to_pylist()}
           for split in ("train", "val")}
    assert ids["val"] and not ids["train"] & ids["val"]  # a document and its repeats stay on one side
    assert 0.01 < len(ids["val"]) / (len(ids["train"]) + len(ids["val"])) < 0.1


def test_manifest_checksums_catch_corruption(run, tmp_path, capsys):
    _, _, out = run
    assert verify_shards(out / "shards") == []
    bad = tmp_path / "shards"
    shutil.copytree(out / "shards", bad)
    victim = bad / "shard-00001.arrow"
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    assert verify_shards(bad) == ["shard-00001.arrow: sha256 mismatch"]
    assert grist(["stats", str(bad)]) == 1
    assert "sha256 mismatch" in capsys.readouterr().out


def test_exports_match_the_shards(run):
    _, _, out = run
    m, files = _shards(out, "train")
    tokens = np.concatenate([flat_tokens(open_shard(f))[0] for f in files])
    sizes = np.concatenate([np.diff(flat_tokens(open_shard(f))[1]) for f in files])
    nano = np.memmap(out / "shards" / "export" / "train.bin", dtype=np.uint16, mode="r")
    assert np.array_equal(nano, tokens)
    assert {"export/train.bin", "export/val.bin"} <= set(m.extra["exports"]["nanogpt"])  # + meta.pkl (issue 13, T4)
    idx = read_megatron_index(out / "shards" / "export" / "train_text_document.idx")
    assert (idx["version"], idx["dtype_code"]) == (1, 8)
    assert np.array_equal(idx["sizes"], sizes)
    assert np.array_equal(idx["pointers"], np.concatenate([[0], np.cumsum(sizes[:-1]) * 2]))
    assert np.array_equal(idx["doc_idx"], np.arange(len(sizes) + 1))
    mbin = np.memmap(out / "shards" / "export" / "train_text_document.bin", dtype=np.uint16, mode="r")
    k = len(sizes) // 2
    start = idx["pointers"][k] // 2
    assert np.array_equal(mbin[start: start + sizes[k]], tokens[start: start + sizes[k]])


def test_grist_stats_json_and_html(run, tmp_path, capsys):
    _, _, out = run
    assert grist(["stats", str(out / "shards"), "--json", "--html", str(tmp_path / "s.html")]) == 0
    st = json.loads(capsys.readouterr().out)
    assert st["checksums"]["ok"] and st["checksums"]["files"] == len(Manifest.load(out / "shards").shards)
    assert {s["source"] for s in st["sources"]} == {"web", "zh", "code"}
    assert sum(s["share"] for s in st["sources"]) == pytest.approx(1.0)
    assert all(s["val_documents"] > 0 and s["val_tokens"] > 0 and s["planned_epochs"] > 0 for s in st["sources"])
    assert st["val"]["rule"]["stratified_by"] == "source"
    assert st["lengths"]["all"]["p50"] > 0 and st["tokenizer"]["vocab_size"] <= 512
    page = (tmp_path / "s.html").read_text()
    for section in ("Shards", "Tokenizer", "Mixture", "Document lengths", "Sample documents", "Removals by stage"):
        assert section in page
    # sources, mixture and lengths plots (nothing is removed here), inline SVG (no matplotlib, no PNG)
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg" class="plot"') == 3 and "data:image/png" not in page
    assert grist(["stats", str(out / "shards")]) == 0
    text = capsys.readouterr().out
    assert "checksums: all" in text and "per source" in text


def test_run_report_html(run):
    _, _, out = run
    page = (out / "report.html").read_text()
    assert "Mixture" in page and "Stages" in page and "Sample documents" in page
    assert page.count("<svg") == 3 and "data:image/png" not in page  # sources, composition, lengths
    mix = Manifest.load(out / "shards").extra["mixture"]
    composition = page[page.index('aria-label="Mixture: share of tokens per source"'):]
    composition = composition[:composition.index("</svg>")]
    assert composition.count('<rect class="bar"') == 3 * len(mix)  # target, planned, realized a source
    for r in mix:
        assert f"{r['source']}: realized: {100 * r['realized_share']:.4g}%</title>" in composition


def test_run_report_html_without_product_stages(ray_local, tmp_path):
    srcs = make_sources(tmp_path / "data", {"web": 30}, {"web": 1.0}, files=1)
    run_config(make_config(tmp_path, srcs), workers=1)
    page = (tmp_path / "out" / "report.html").read_text()
    assert "Stages" in page and "Per source" in page and "nothing was removed" in page
    assert "Shards" not in page and "Mixture" not in page
