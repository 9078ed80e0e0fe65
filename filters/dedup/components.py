"""The shuffle rounds of dedup: band groups -> candidate pairs -> verified pairs -> connected
components -> keeper per component. Plain functions of a spec dict; the stage runs each round
through the runner (`pipelines.runner.map_tasks`), one task per bucket (this module never imports
Ray).

Layout of a round: task T writes ONE file `ROUND/T.parquet` holding all its output rows sorted by
destination bucket, one row group per destination (the row group -> bucket list is in the file's
schema metadata); the next round's task for bucket B reads B's row groups from every file of the
round before, in task order. Files per round = tasks, not tasks x buckets. Memory per task is one
bucket, never the corpus, and outputs depend only on inputs: any number of workers, or a rerun
after a kill, gives the same decisions.

Nodes are uint64: `part index << 32 | row in part` (part indices from the sorted part names in
the stage's plan). Connected components: when the verified edges are few enough
(`DedupConfig.cc_single_max_edges`) one task labels them with scipy (datatrove also clusters in
one task); beyond that large-star / small-star rounds (Kiveris et al. 2014, "Connected Components
in MapReduce and Beyond") until a large-star round sees the same edges as the one before.
Either way every node ends with component = its smallest node.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import xxhash

from pipelines import storage
from pipelines.shuffle import read_dest, write_by_dest  # noqa: F401 - used here and by the dedup stage

EDGE_SCHEMA = pa.schema([("u", pa.uint64()), ("v", pa.uint64())])
BAND_SCHEMA = pa.schema([("key", pa.uint64()), ("node", pa.uint64())])
# Per document: keep-rule fields and its shingle-hash set (sorted, unique), bucketed by node.
NODE_SCHEMA = pa.schema([
    ("node", pa.uint64()), ("id", pa.string()), ("source", pa.string()), ("quality", pa.float64()),
    ("vendored", pa.bool_()), ("priority", pa.int32()), ("exact", pa.uint64()), ("hashes", pa.list_(pa.uint32())),
])
META_COLUMNS = ["node", "id", "source", "quality", "vendored", "priority", "exact"]
DECISION_SCHEMA = pa.schema([
    ("part", pa.uint32()), ("id", pa.string()), ("reason", pa.string()), ("duplicate_of", pa.string()),
])
_MIX = np.uint64(0x9E3779B97F4A7C15)


def make_node(part_index: int, rows: np.ndarray) -> np.ndarray:
    return (np.uint64(part_index) << np.uint64(32)) | rows.astype(np.uint64)


def part_of(nodes: np.ndarray) -> np.ndarray:
    return (nodes >> np.uint64(32)).astype(np.uint32)


def node_bucket(nodes: np.ndarray, n: int) -> np.ndarray:
    """Bucket of a node: Fibonacci hashing, so a part's consecutive rows spread evenly."""
    return ((nodes * _MIX) >> np.uint64(33)) % np.uint64(n)


def _np(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    return col.to_numpy(zero_copy_only=False)


def unique_pairs(u: np.ndarray, v: np.ndarray, both_ways: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (u, v) without self loops, sorted by (u, v); `both_ways` adds (v, u) first."""
    if both_ways:
        u, v = np.concatenate([u, v]), np.concatenate([v, u])
    keep = u != v
    u, v = u[keep], v[keep]
    if not len(u):
        return u, v
    order = np.lexsort((v, u))
    u, v = u[order], v[order]
    first = np.concatenate(([True], (u[1:] != u[:-1]) | (v[1:] != v[:-1])))
    return u[first], v[first]


def _edges(u: np.ndarray, v: np.ndarray) -> pa.Table:
    return pa.table([pa.array(u, pa.uint64()), pa.array(v, pa.uint64())], schema=EDGE_SCHEMA)


# --- band groups -> candidate pairs -------------------------------------------------------------

def band_pairs(spec: dict[str, Any]) -> dict[str, Any]:
    """All band rows (key, node) of one bucket -> pairs of nodes sharing a key. Groups up to
    `max_group` nodes give every pair (so verification cannot cut a true pair that only meets
    through a third node); larger groups, which are rare and mostly shared boilerplate, give a
    star to their smallest node. Output keyed by u's bucket (verify) or in both directions
    (ready for components)."""
    t = read_dest(spec["inputs"], spec["bucket"], BAND_SCHEMA)
    n = spec["buckets"]
    key, node = _np(t["key"]), _np(t["node"])
    order = np.lexsort((node, key))
    key, node = key[order], node[order]
    us, vs = [np.empty(0, np.uint64)], [np.empty(0, np.uint64)]
    if len(key) > 1:
        start = np.concatenate(([True], key[1:] != key[:-1]))
        gid = np.cumsum(start) - 1
        gstart = np.flatnonzero(start)
        size = np.diff(np.append(gstart, len(key)))[gid]
        pos = np.arange(len(key)) - gstart[gid]
        small = size <= spec["max_group"] if spec["verify"] else np.zeros(len(key), bool)
        star = ~small & (pos > 0)
        us.append(node[gstart[gid[star]]])
        vs.append(node[star])
        for k in range(1, int(size[small].max(initial=1))):  # every pair (i, i + k) inside a small group
            idx = np.flatnonzero(small & (pos + k < size))
            us.append(node[idx])
            vs.append(node[idx + k])
    u, v = unique_pairs(np.concatenate(us), np.concatenate(vs), both_ways=not spec["verify"])
    write_by_dest(spec["output"], _edges(u, v), node_bucket(u, n))
    return {"rows": int(len(key)), "pairs": int(len(u)) // (1 if spec["verify"] else 2)}


# --- verification by true Jaccard ---------------------------------------------------------------

def _sets_for(spec: dict[str, Any], wanted: np.ndarray) -> tuple[np.ndarray, pa.Array]:
    """(sorted nodes, their hash sets) for the `wanted` nodes of this bucket."""
    s = read_dest(spec["sets"], spec["bucket"], NODE_SCHEMA, ["node", "hashes"], keep=pa.array(wanted, pa.uint64()))
    nodes = _np(s["node"])
    order = np.argsort(nodes, kind="stable")
    return nodes[order], s["hashes"].combine_chunks().take(pa.array(order))


def _attach(nodes: np.ndarray, sets: pa.Array, want: np.ndarray) -> pa.Array:
    """The set of every `want` node (null where a node has none)."""
    pos = np.searchsorted(nodes, want)
    pos_c = np.minimum(pos, max(len(nodes) - 1, 0))
    found = (pos < len(nodes)) & (nodes[pos_c] == want) if len(nodes) else np.zeros(len(want), bool)
    if not len(nodes):
        return pa.nulls(len(want), pa.list_(pa.uint32()))
    return sets.take(pa.array(pos_c, mask=~found))


def verify_attach(spec: dict[str, Any]) -> dict[str, Any]:
    """Round 1 of verification, for bucket P of `u`: attach u's set, re-key by v's bucket."""
    t = read_dest(spec["inputs"], spec["bucket"], EDGE_SCHEMA)
    u, v = unique_pairs(_np(t["u"]), _np(t["v"]))
    nodes, sets = _sets_for(spec, np.unique(u))
    out = _edges(u, v).append_column("hu", _attach(nodes, sets, u))
    write_by_dest(spec["output"], out, node_bucket(v, spec["buckets"]))
    return {"pairs": int(len(u))}


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard of two sorted unique hash arrays (two empty sets: 1, they are the same text)."""
    if len(a) == 0 and len(b) == 0:
        return 1.0
    inter = np.intersect1d(a, b, assume_unique=True).size
    return inter / (len(a) + len(b) - inter)


def verify_check(spec: dict[str, Any]) -> dict[str, Any]:
    """Round 2, for bucket Q of `v`: attach v's set, keep pairs with Jaccard >= threshold, written
    in both directions keyed by the first end (the form components read)."""
    t = read_dest(spec["inputs"], spec["bucket"], EDGE_SCHEMA.append(pa.field("hu", pa.list_(pa.uint32()))))
    if t.num_rows:
        t = t.sort_by([("u", "ascending"), ("v", "ascending")])
    u, v = _np(t["u"]), _np(t["v"])
    nodes, sets = _sets_for(spec, np.unique(v))
    hv = _attach(nodes, sets, v)
    hu = t["hu"].combine_chunks() if t.num_rows else hv
    # per candidate pair only: ~1 pair per duplicate document
    a_off, a_val = _np(hu.offsets), _np(hu.values)
    b_off, b_val = _np(hv.offsets), _np(hv.values)
    a_ok, b_ok = _np(hu.is_valid()), _np(hv.is_valid())
    thr = spec["threshold"]
    keep = np.zeros(len(u), bool)
    for i in range(len(u)):
        if a_ok[i] and b_ok[i]:
            keep[i] = jaccard(a_val[a_off[i]:a_off[i + 1]], b_val[b_off[i]:b_off[i + 1]]) >= thr
    ku, kv = unique_pairs(u[keep], v[keep], both_ways=True)
    write_by_dest(spec["output"], _edges(ku, kv), node_bucket(ku, spec["buckets"]))
    return {"pairs": int(len(u)), "verified": int(keep.sum())}


# --- connected components -----------------------------------------------------------------------

def _label_components(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted nodes of the edges, each one's component = its smallest node), by scipy."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    nodes = np.unique(np.concatenate([u, v]))
    m = len(nodes)
    comp = nodes
    if m:
        g = coo_matrix((np.ones(len(u), np.int32), (np.searchsorted(nodes, u), np.searchsorted(nodes, v))), shape=(m, m))
        _, labels = connected_components(g, directed=False)
        smallest = np.full(labels.max() + 1, np.iinfo(np.uint64).max, np.uint64)
        np.minimum.at(smallest, labels, nodes)
        comp = smallest[labels]
    return nodes, comp


def components_single(spec: dict[str, Any]) -> dict[str, Any]:
    """All edges in one task: scipy labels the components; writes (node, its component's smallest
    node) for every node, keyed by the node's bucket (the form `members` reads)."""
    t = read_dest(spec["inputs"], None, EDGE_SCHEMA)
    nodes, comp = _label_components(_np(t["u"]), _np(t["v"]))
    write_by_dest(spec["output"], _edges(nodes, comp), node_bucket(nodes, spec["buckets"]))
    return {"nodes": int(len(nodes)), "components": int(len(np.unique(comp)))}


def components_decide(spec: dict[str, Any]) -> dict[str, Any]:
    """All edges in one task, and the keeper of every component decided there too: the labels of
    `components_single`, the keep-rule fields of the component's nodes read from every node file
    (those nodes only, a row group at a time), then `decide`'s rule. The same decisions as
    components_single -> members -> decide, two shuffle rounds (2 x buckets tasks) fewer."""
    t = read_dest(spec["inputs"], None, EDGE_SCHEMA)
    nodes, comp = _label_components(_np(t["u"]), _np(t["v"]))
    meta = read_dest(spec["sets"], None, NODE_SCHEMA, META_COLUMNS, keep=pa.array(nodes, pa.uint64())).sort_by("node")
    found = np.searchsorted(nodes, _np(meta["node"]))
    out = _decisions(meta.append_column("comp", pa.array(comp[found], pa.uint64())))
    write_by_dest(spec["output"], out, _np(out["part"]).astype(np.int64))
    return {"nodes": int(len(nodes)), "components": int(len(np.unique(comp))), "dropped": int(out.num_rows)}


def _min_neighbour(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """For sorted unique edges: m(u) = min(u, smallest neighbour of u), per edge."""
    first = np.concatenate(([True], u[1:] != u[:-1])) if len(u) else np.zeros(0, bool)
    starts = np.flatnonzero(first)
    vmin = np.minimum.reduceat(v, starts) if len(u) else v
    m = np.minimum(u[starts], vmin)
    return m[np.cumsum(first) - 1]


def _digest(u: np.ndarray, v: np.ndarray) -> str:
    h = xxhash.xxh64()
    h.update(np.ascontiguousarray(u, np.uint64).tobytes())
    h.update(np.ascontiguousarray(v, np.uint64).tobytes())
    return h.hexdigest()


def large_star(spec: dict[str, Any]) -> dict[str, Any]:
    """Each node links its larger neighbours to the smallest node of its neighbourhood. Input:
    edges in both directions keyed by u; output keyed by the larger end (for small-star)."""
    t = read_dest(spec["inputs"], spec["bucket"], EDGE_SCHEMA)
    u, v = unique_pairs(_np(t["u"]), _np(t["v"]))
    digest = _digest(u, v)
    m = _min_neighbour(u, v)
    big = v > u
    ou, ov = v[big], m[big]
    write_by_dest(spec["output"], _edges(ou, ov), node_bucket(ou, spec["buckets"]))
    return {"edges": int(len(ou)), "digest": digest}


def small_star(spec: dict[str, Any]) -> dict[str, Any]:
    """Each node links itself and its smaller neighbours to the smallest of them. Input keyed by
    the larger end; output in both directions (for large-star)."""
    t = read_dest(spec["inputs"], spec["bucket"], EDGE_SCHEMA)
    u, v = unique_pairs(_np(t["u"]), _np(t["v"]))
    m = _min_neighbour(u, v)
    first = np.concatenate(([True], u[1:] != u[:-1])) if len(u) else np.zeros(0, bool)
    members = np.concatenate([v, u[first]])
    mins = np.concatenate([m, m[first]])
    keep = members != mins
    ou, ov = unique_pairs(members[keep], mins[keep], both_ways=True)
    write_by_dest(spec["output"], _edges(ou, ov), node_bucket(ou, spec["buckets"]))
    return {"edges": int(len(u))}


# --- keeper per component -----------------------------------------------------------------------

def members(spec: dict[str, Any]) -> dict[str, Any]:
    """Nodes of bucket P with their component (min(node, smallest v) over the component rows of
    P) and keep-rule fields, re-keyed by the component's bucket."""
    t = read_dest(spec["inputs"], spec["bucket"], EDGE_SCHEMA)
    u, v = _np(t["u"]), _np(t["v"])
    if len(u):
        order = np.lexsort((v, u))
        u, v = u[order], v[order]
        first = np.concatenate(([True], u[1:] != u[:-1]))
        starts = np.flatnonzero(first)
        nodes, comp = u[starts], np.minimum(u[starts], np.minimum.reduceat(v, starts))
    else:
        nodes = comp = u
    meta = read_dest(spec["sets"], spec["bucket"], NODE_SCHEMA, META_COLUMNS, keep=pa.array(nodes, pa.uint64()))
    meta = meta.sort_by("node")
    mnodes = _np(meta["node"])
    found = np.searchsorted(nodes, mnodes)
    out = meta.append_column("comp", pa.array(comp[found], pa.uint64()))
    write_by_dest(spec["output"], out, node_bucket(comp[found], spec["buckets"]))
    return {"nodes": int(len(nodes))}


def decide(spec: dict[str, Any]) -> dict[str, Any]:
    """Keep rule per component: highest quality_score (missing = lowest), then the original over a
    vendored copy (meta `vendored: true`, e.g. pip's `_vendor/requests` against requests itself), then
    the source priority, then the smallest id (then source). The others are dropped as `exact_duplicate`
    when their normalised text equals the keeper's, else `near_duplicate`; `duplicate_of` = keeper.
    Output keyed by part index (the apply step reads its part's row group)."""
    schema = pa.schema([NODE_SCHEMA.field(c) for c in META_COLUMNS] + [pa.field("comp", pa.uint64())])
    out = _decisions(read_dest(spec["inputs"], spec["bucket"], schema))
    write_by_dest(spec["output"], out, _np(out["part"]).astype(np.int64))
    return {"dropped": int(out.num_rows)}


def _decisions(t: pa.Table) -> pa.Table:
    """`decide`'s rule over rows of keep-rule fields and `comp`: one decision row per dropped
    document (part, id, reason, duplicate_of), sorted by (part, id)."""
    if t.num_rows:
        t = t.sort_by([("comp", "ascending"), ("quality", "descending", "at_end"), ("vendored", "ascending"),
                       ("priority", "ascending"), ("id", "ascending"), ("source", "ascending")])
    comp, exact = _np(t["comp"]), t["exact"].to_pylist()
    ids = t["id"].to_pylist()
    head = np.concatenate(([True], comp[1:] != comp[:-1])) if len(comp) else np.zeros(0, bool)
    keeper_row = np.maximum.accumulate(np.where(head, np.arange(len(comp)), 0)) if len(comp) else np.zeros(0, np.int64)
    drop = np.flatnonzero(~head)
    reasons, dup_of = [], []
    for i in drop.tolist():
        k = int(keeper_row[i])
        same = exact[i] is not None and exact[i] == exact[k]
        reasons.append("exact_duplicate" if same else "near_duplicate")
        dup_of.append(ids[k])
    parts = part_of(_np(t["node"])[drop]) if len(drop) else np.zeros(0, np.uint32)
    out = pa.table([pa.array(parts, pa.uint32()), t["id"].take(pa.array(drop)), pa.array(reasons, pa.string()),
                    pa.array(dup_of, pa.string())], schema=DECISION_SCHEMA)
    return out.sort_by([("part", "ascending"), ("id", "ascending")])


def part_decisions(files: Iterable[str | Path], part_index: int) -> pa.Table:
    return read_dest(files, part_index, DECISION_SCHEMA, ["id", "reason", "duplicate_of"])
