"""The shuffle rounds of dedup: band groups -> candidate pairs -> (verified pairs) -> connected
components -> keeper per component. Plain functions over hash-partitioned Parquet folders; the
stage runs each round as one Ray task per partition (this module never imports Ray).

Layout of a round: `ROOT/PPPPP/NAME.parquet` is what task NAME wrote for partition PPPPP; the
next round's task P reads every file of `ROOT/PPPPP/`, in name order. Memory per task is one
partition, never the corpus, and outputs depend only on inputs: any number of workers, or a rerun
after a kill, gives the same bytes.

Nodes are `source \\x1f id` (ids are unique per source only). Connected components use
large-star / small-star (Kiveris et al. 2014, "Connected Components in MapReduce and Beyond"),
alternating until a large-star round sees the same edges as the one before: every component is
then a star around its smallest node.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import xxhash

from pipelines.parts import PARQUET_OPTS

EDGE_SCHEMA = pa.schema([("u", pa.string()), ("v", pa.string())])
SEP = "\x1f"


def node_key(source: str, doc_id: str) -> str:
    return f"{source}{SEP}{doc_id}"


def partition_of(keys: list[str], n: int) -> np.ndarray:
    """Stable partition of string keys (xxh64, independent of the process's hash seed)."""
    h = xxhash.xxh64_intdigest
    return np.fromiter((h(k.encode()) % n for k in keys), np.int64, len(keys))


def write_table(path: Path, table: pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    pq.write_table(table, tmp, **{k: v for k, v in PARQUET_OPTS.items() if k != "use_dictionary"})
    os.replace(tmp, path)


def split_partitions(table: pa.Table, parts: np.ndarray):
    """(partition, rows of that partition in their original order), by increasing partition."""
    if table.num_rows == 0:
        return
    order = np.argsort(parts, kind="stable")
    cuts = np.flatnonzero(np.diff(parts[order])) + 1
    for idx in np.split(order, cuts):
        yield int(parts[idx[0]]), table.take(pa.array(idx))


def write_partitioned(table: pa.Table, parts: np.ndarray, root: Path, name: str) -> None:
    """Rows go to `root/PPPPP/name.parquet` by their partition number (order kept)."""
    for p, rows in split_partitions(table, parts):
        write_table(root / f"{p:05d}" / f"{name}.parquet", rows)


def read_partition(folder: Path, schema: pa.Schema | None = None, columns: list[str] | None = None,
                   filters: Any = None) -> pa.Table | None:
    files = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
    tables = [pq.read_table(f, columns=columns, filters=filters) for f in files]
    if not tables:
        return schema.empty_table() if schema is not None else None
    return pa.concat_tables(tables)


def _unique_edges(t: pa.Table) -> pa.Table:
    """Distinct (u, v) without self loops, sorted: the canonical form every round starts from."""
    t = t.select(["u", "v"])
    t = t.filter(pc.not_equal(t["u"], t["v"]))
    t = t.group_by(["u", "v"]).aggregate([])
    return t.sort_by([("u", "ascending"), ("v", "ascending")])


def _both_ways(u: pa.Array, v: pa.Array) -> pa.Table:
    return pa.table({"u": pa.concat_arrays([u, v]), "v": pa.concat_arrays([v, u])})


def _write_edges(t: pa.Table, root: Path, name: str, n: int) -> None:
    write_partitioned(t, partition_of(t["u"].to_pylist(), n), root, name)


def _digest(t: pa.Table) -> str:
    h = xxhash.xxh64()
    for col in ("u", "v"):
        for chunk in t[col].chunks:
            h.update("\n".join(chunk.to_pylist()).encode())
            h.update(b"\x00")
    return h.hexdigest()


# --- band groups -> candidate pairs -------------------------------------------------------------

def band_pairs(spec: dict[str, Any]) -> dict[str, Any]:
    """All band rows (key, node) of one bucket -> pairs of nodes sharing a key. Groups up to
    `max_group` nodes give every pair (so verification cannot cut a true pair that only meets
    through a third node); larger groups, which are rare and mostly shared boilerplate, give a
    star to their smallest node. Unverified pairs are written both ways, ready for large-star."""
    t = read_partition(Path(spec["input"]))
    n = spec["partitions"]
    if t is None or t.num_rows == 0:
        return {"rows": 0, "pairs": 0}
    t = t.sort_by([("key", "ascending"), ("node", "ascending")])
    keys = t["key"].to_numpy()
    nodes = t["node"].to_pylist()
    starts = np.concatenate(([0], np.flatnonzero(keys[1:] != keys[:-1]) + 1, [len(keys)]))
    pairs: set[tuple[str, str]] = set()
    for s, e in zip(starts[:-1].tolist(), starts[1:].tolist()):
        if e - s < 2:
            continue
        group = nodes[s:e]
        if spec["verify"] and e - s <= spec["max_group"]:
            pairs.update((group[i], group[j]) for i in range(len(group)) for j in range(i + 1, len(group)))
        else:
            pairs.update((group[0], x) for x in group[1:])
    ordered = sorted(pairs)
    u = pa.array([p[0] for p in ordered], pa.string())
    v = pa.array([p[1] for p in ordered], pa.string())
    out = pa.table({"u": u, "v": v}) if spec["verify"] else _both_ways(u, v)
    _write_edges(out, Path(spec["output"]), spec["name"], n)
    return {"rows": t.num_rows, "pairs": len(ordered)}


# --- verification by true Jaccard ---------------------------------------------------------------

def _attach_sets(edges: pa.Table, sets_dir: Path, col: str) -> pa.Array:
    """The shingle-hash set of node `edges[col]` for every edge (sets are hash-partitioned like
    the edges, so one partition of sets is read)."""
    wanted = pc.unique(edges[col])
    sets = read_partition(sets_dir, filters=pc.field("node").isin(wanted))
    if sets is None or sets.num_rows == 0:
        return pa.nulls(edges.num_rows, pa.list_(pa.uint32()))
    index = pa.table({"node": sets["node"], "_row": pa.array(np.arange(sets.num_rows))})
    joined = edges.select([col]).append_column("_pos", pa.array(np.arange(edges.num_rows)))
    joined = joined.join(index, col, "node").sort_by("_pos")
    return sets["hashes"].take(joined["_row"])


def verify_attach(spec: dict[str, Any]) -> dict[str, Any]:
    """Round 1 of verification, for partition P of `u`: attach u's set, re-partition by v."""
    edges = _unique_edges(read_partition(Path(spec["input"]), EDGE_SCHEMA))
    if edges.num_rows == 0:
        return {"pairs": 0}
    edges = edges.append_column("hu", _attach_sets(edges, Path(spec["sets"]), "u"))
    write_partitioned(edges, partition_of(edges["v"].to_pylist(), spec["partitions"]), Path(spec["output"]), spec["name"])
    return {"pairs": edges.num_rows}


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard of two sorted unique hash arrays (two empty sets: 1, they are the same text)."""
    if len(a) == 0 and len(b) == 0:
        return 1.0
    inter = np.intersect1d(a, b, assume_unique=True).size
    return inter / (len(a) + len(b) - inter)


def verify_check(spec: dict[str, Any]) -> dict[str, Any]:
    """Round 2, for partition Q of `v`: attach v's set, keep pairs with Jaccard >= threshold,
    written both ways for large-star."""
    t = read_partition(Path(spec["input"]))
    if t is None or t.num_rows == 0:
        return {"pairs": 0, "verified": 0}
    t = t.sort_by([("u", "ascending"), ("v", "ascending")])
    hv = _attach_sets(t, Path(spec["sets"]), "v")
    keep = [
        a is not None and b is not None and jaccard(a.values.to_numpy(), b.values.to_numpy()) >= spec["threshold"]
        for a, b in zip(t["hu"].combine_chunks(), hv)
    ]
    # (the per-pair loop is over candidates only: planted-duplicate benchmarks see ~1 pair per doc)
    kept = t.filter(pa.array(keep, pa.bool_()))
    _write_edges(_both_ways(kept["u"].combine_chunks(), kept["v"].combine_chunks()), Path(spec["output"]),
                 spec["name"], spec["partitions"])
    return {"pairs": t.num_rows, "verified": kept.num_rows}


# --- connected components: large-star / small-star ----------------------------------------------

def _min_neighbour(t: pa.Table) -> pa.Table:
    """Per node u: m(u) = min(u, smallest neighbour), joined back onto its edges as `m`."""
    g = t.group_by("u").aggregate([("v", "min")])
    g = g.append_column("m", pc.min_element_wise(g["u"], g["v_min"])).drop_columns(["v_min"])
    return t.join(g, "u").sort_by([("u", "ascending"), ("v", "ascending")])


def large_star(spec: dict[str, Any]) -> dict[str, Any]:
    """Each node links its larger neighbours to the smallest node of its neighbourhood. Input:
    edges in both directions keyed by u; output keyed by the larger end (for small-star)."""
    t = _unique_edges(read_partition(Path(spec["input"]), EDGE_SCHEMA))
    digest = _digest(t)
    if t.num_rows:
        t = _min_neighbour(t)
        t = t.filter(pc.greater(t["v"], t["u"]))
        _write_edges(pa.table({"u": t["v"], "v": t["m"]}), Path(spec["output"]), spec["name"], spec["partitions"])
    return {"edges": t.num_rows, "digest": digest}


def small_star(spec: dict[str, Any]) -> dict[str, Any]:
    """Each node links itself and its smaller neighbours to the smallest of them. Input keyed by
    the larger end; output in both directions (for large-star)."""
    t = _unique_edges(read_partition(Path(spec["input"]), EDGE_SCHEMA))
    if t.num_rows:
        t = _min_neighbour(t)
        members = pa.concat_arrays([t["v"].combine_chunks(), pc.unique(t["u"])])
        mins = pa.concat_arrays([t["m"].combine_chunks(), _min_neighbour_of_nodes(t)])
        keep = pc.not_equal(members, mins)
        _write_edges(_both_ways(members.filter(keep), mins.filter(keep)), Path(spec["output"]), spec["name"],
                     spec["partitions"])
    return {"edges": t.num_rows}


def _min_neighbour_of_nodes(t: pa.Table) -> pa.Array:
    """m of every distinct u of a `_min_neighbour` table, in the order of `pc.unique(t["u"])`."""
    first = np.concatenate(([True], np.asarray(pc.not_equal(t["u"][1:], t["u"][:-1]))))
    return t["m"].combine_chunks().filter(pa.array(first))


# --- keeper per component -----------------------------------------------------------------------

META_SCHEMA = pa.schema([
    ("node", pa.string()), ("id", pa.string()), ("source", pa.string()), ("part", pa.string()),
    ("quality", pa.float64()), ("vendored", pa.bool_()), ("priority", pa.int32()), ("exact", pa.uint64()),
])


def members(spec: dict[str, Any]) -> dict[str, Any]:
    """From the converged star edges of partition P: node -> component (its smallest node), with
    the node's keep-rule fields from the meta rows, re-partitioned by component."""
    t = _unique_edges(read_partition(Path(spec["input"]), EDGE_SCHEMA))
    if t.num_rows == 0:
        return {"nodes": 0}
    g = t.group_by("u").aggregate([("v", "min")])
    comp = pc.min_element_wise(g["u"], g["v_min"])
    nodes = pa.table({"node": g["u"], "comp": comp})
    meta = read_partition(Path(spec["meta"]), META_SCHEMA, filters=pc.field("node").isin(nodes["node"]))
    out = nodes.join(meta, "node").sort_by("node")
    write_partitioned(out, partition_of(out["comp"].to_pylist(), spec["partitions"]), Path(spec["output"]), spec["name"])
    return {"nodes": out.num_rows}


def decide(spec: dict[str, Any]) -> dict[str, Any]:
    """Keep rule per component: highest quality_score (missing = lowest), then the original over a
    vendored copy (meta `vendored: true`, e.g. pip's `_vendor/requests` against requests itself), then
    the source priority, then the smallest id (then source). The others are dropped as `exact_duplicate`
    when their normalised text equals the keeper's, else `near_duplicate`; `duplicate_of` = keeper."""
    t = read_partition(Path(spec["input"]))
    out_path = Path(spec["output"]) / f"{spec['name']}.parquet"
    if t is None or t.num_rows == 0:
        write_table(out_path, DECISION_SCHEMA.empty_table())
        return {"dropped": 0}
    t = t.sort_by([("comp", "ascending"), ("quality", "descending", "at_end"), ("vendored", "ascending"),
                   ("priority", "ascending"),
                   ("id", "ascending"), ("source", "ascending")])
    comp = t["comp"].to_pylist()
    ids, exact = t["id"].to_pylist(), t["exact"].to_pylist()
    rows = []
    keeper = keeper_exact = None
    for i, c in enumerate(comp):
        if i == 0 or c != comp[i - 1]:
            keeper, keeper_exact = ids[i], exact[i]
            continue
        same = exact[i] is not None and exact[i] == keeper_exact
        rows.append((i, "exact_duplicate" if same else "near_duplicate", keeper))
    idx = pa.array([r[0] for r in rows], pa.int64())
    out = pa.table({
        "part": t["part"].take(idx), "id": t["id"].take(idx), "source": t["source"].take(idx),
        "reason": pa.array([r[1] for r in rows], pa.string()), "duplicate_of": pa.array([r[2] for r in rows], pa.string()),
    }, schema=DECISION_SCHEMA)
    write_table(out_path, out.sort_by([("part", "ascending"), ("id", "ascending")]))
    return {"dropped": out.num_rows}


DECISION_SCHEMA = pa.schema([
    ("part", pa.string()), ("id", pa.string()), ("source", pa.string()), ("reason", pa.string()),
    ("duplicate_of", pa.string()),
])
