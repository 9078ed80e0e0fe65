"""Shard loader: memory-mapped, zero copy, resumable by step number.

Each shard (one Arrow record batch = one *segment*) is one flat token array mapped from disk. The
documents of a source, in shard order, form that source's *stream*: a list of spans (segment,
start, length) read as if concatenated. Two samplers of `block_size + 1`-token windows:
`sampler="epoch"` (the trainer's default, below) and `sampler="random"`: windows start at a
uniformly random position of a stream (with replacement) and may cross document (EOT-separated)
and shard boundaries, as in GPT-2 / nanoGPT.

Sample order is a pure function of (seed, step, micro-step, rank): there is no iterator state, so
resuming needs only the step, and a run resumed on another world size simply draws its new ranks'
samples. Each rank owns the r-th of `world_size` contiguous slices of every stream, so DDP ranks
never see the same tokens. The source of each sample is drawn by weight (default: token share).

`sampler="epoch"` (EpochPlan) instead tiles each rank's slice of every source into non-overlapping
windows that never cross a shard (segment) boundary -- the last window of a segment is aligned to
its end, so one planned epoch covers 100% of the tokens (a few tail tokens twice) -- and walks a
seeded permutation of them, each source repeated by its planned epochs (manifest `planned_epochs`,
else weight / token share). Still a pure function of (seed, step, micro, rank). We chose tiling
over nanochat's best-fit packing: it keeps every window one contiguous slice (one gather) and
drops no tokens; windows cross documents, which document-causal attention masks at EOT.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.errors import ConfigError
from shards.format import Manifest, flat_tokens, open_shard, sha256_file, verify_shards

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def expected_sha(expect: str) -> str:
    """A tokenizer expectation given as a sha256 or a path to a tokenizer.json -> the sha256."""
    if _SHA256.match(expect.lower()):
        return expect.lower()
    path = Path(expect)
    if not path.is_file():
        raise ConfigError(f"--expect-tokenizer: {expect} is neither a sha256 nor a tokenizer file")
    return sha256_file(path)


@dataclass
class Stream:
    """One source's tokens: spans of segments read as a single concatenated sequence."""

    name: str
    seg: np.ndarray  # int64 segment index of each span
    start: np.ndarray  # int64 first token of each span in its segment
    cum: np.ndarray  # int64 cumulative span lengths, len(spans) + 1; cum[-1] = tokens

    @property
    def tokens(self) -> int:
        return int(self.cum[-1])

    def read(self, segments: list[np.ndarray], pos: int, out: np.ndarray) -> None:
        """Copy tokens [pos, pos + len(out)) of the stream into `out` (casting to its dtype)."""
        n, done = len(out), 0
        i = int(np.searchsorted(self.cum, pos, side="right")) - 1
        while done < n:
            off = pos + done - self.cum[i]
            take = min(n - done, int(self.cum[i + 1] - self.cum[i] - off))
            s = self.start[i] + off
            out[done: done + take] = segments[self.seg[i]][s: s + take]
            done += take
            i += 1


@dataclass
class ShardSplit:
    """The memory-mapped shards of one split, and a stream per source."""

    folder: Path
    manifest: Manifest
    split: str
    segments: list[np.ndarray]
    streams: dict[str, Stream]
    tables: list[pa.Table] = field(repr=False, default_factory=list)  # keep the mappings alive

    @property
    def tokens(self) -> int:
        return sum(s.tokens for s in self.streams.values())


def _spans(sources: pa.Array, offsets: np.ndarray) -> dict[str, np.ndarray]:
    """Per source name, the (start, end) token ranges of runs of consecutive documents of it."""
    enc = pc.dictionary_encode(sources)
    codes = enc.indices.to_numpy()
    names = enc.dictionary.to_pylist()
    first = np.flatnonzero(np.diff(codes, prepend=-1))  # first document of each run
    last = np.append(first[1:], len(codes))
    runs = np.stack([offsets[first], offsets[last]], axis=1).astype(np.int64)
    return {name: runs[codes[first] == k] for k, name in enumerate(names)}


def open_split(folder: str | Path, split: str = "train", expect_tokenizer: str | None = None,
               verify: bool = True) -> ShardSplit:
    """Map the shards of `split`; refuse them if a sha256 or the tokenizer is not what is expected."""
    folder = Path(folder)
    manifest = Manifest.load(folder)
    if expect_tokenizer is not None:
        want = expected_sha(expect_tokenizer)
        if manifest.tokenizer_sha256 != want:
            raise ConfigError(
                f"{folder}: shards were tokenized with tokenizer sha256 {manifest.tokenizer_sha256[:12]}..., "
                f"the run expects {want[:12]}... (different tokenizer; retokenize or pass the matching one)")
    infos = manifest.files(split)
    if not infos:
        raise ConfigError(f"{folder}: manifest.json lists no {split} shards")
    if verify:
        bad = verify_shards(folder, Manifest(**{**manifest.__dict__, "shards": infos}))
        if bad:
            raise ConfigError(f"{folder}: shards do not match manifest.json: {'; '.join(bad[:3])}")
    dtype = np.dtype(manifest.dtype)
    segments: list[np.ndarray] = []
    tables: list[pa.Table] = []
    parts: dict[str, list[np.ndarray]] = {}  # source -> [(segment, start, end), ...] blocks
    for info in infos:
        table = open_shard(folder / info.file)
        meta = {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
        if meta.get("grist.tokenizer_sha256", manifest.tokenizer_sha256) != manifest.tokenizer_sha256:
            raise ConfigError(f"{folder / info.file}: tokenizer sha256 differs from manifest.json")
        tables.append(table)
        for batch in table.to_batches():  # one segment per record batch keeps every view zero-copy
            if batch.num_rows == 0:
                continue
            flat, offsets = flat_tokens(pa.Table.from_batches([batch]))
            if flat.dtype != dtype:
                raise ConfigError(f"{folder / info.file}: tokens are {flat.dtype}, manifest says {dtype}")
            for name, runs in _spans(batch.column("source"), offsets).items():
                parts.setdefault(name, []).append(np.insert(runs, 0, len(segments), axis=1))
            segments.append(flat)
    streams = {}
    for name in sorted(parts):
        arr = np.concatenate(parts[name])
        streams[name] = Stream(name, arr[:, 0], arr[:, 1], np.concatenate([[0], np.cumsum(arr[:, 2] - arr[:, 1])]))
    return ShardSplit(folder, manifest, split, segments, streams, tables)


def parse_weights(spec: str | dict[str, float] | None, sources: list[str]) -> dict[str, float] | None:
    """'web=0.7,books=0.3' -> normalized weights; sources not named get 0."""
    if not spec:
        return None
    if isinstance(spec, str):
        try:
            spec = {k.strip(): float(v) for k, v in (item.split("=") for item in spec.split(","))}
        except ValueError:
            raise ConfigError(f"--source-weights: expected NAME=WEIGHT,..., got {spec!r}") from None
    unknown = sorted(set(spec) - set(sources))
    if unknown:
        raise ConfigError(f"--source-weights: unknown source(s) {', '.join(unknown)}; shards have {', '.join(sources)}")
    if any(w < 0 for w in spec.values()) or sum(spec.values()) <= 0:
        raise ConfigError("--source-weights: weights must be >= 0 with a positive sum")
    total = sum(spec.values())
    return {s: spec.get(s, 0.0) / total for s in sources}


SAMPLERS = ("epoch", "random")


class TrainLoader:
    """Batches of `batch_size` windows of `block_size + 1` tokens for one rank.

    `batch(step, micro)` is a pure function of (seed, step, micro, rank); the returned tensors are
    int64 (x, y) views of one fresh (B, T+1) buffer. `sampler="epoch"` walks EpochPlan and needs
    `micro_steps` (gradient-accumulation steps per optimizer step) so micro-batches never repeat;
    its walk starts at `first_step` (a mix-schedule segment starts its own planned epoch there)."""

    def __init__(self, data: ShardSplit, block_size: int, batch_size: int, seed: int = 0, rank: int = 0,
                 world_size: int = 1, weights: dict[str, float] | None = None, sampler: str = "random",
                 micro_steps: int = 1, first_step: int = 0):
        if sampler not in SAMPLERS:
            raise ConfigError(f"--sampler: {sampler!r} is not one of {', '.join(SAMPLERS)}")
        self.data, self.T, self.B = data, block_size, batch_size
        self.seed, self.rank, self.world_size, self.first_step = seed, rank, world_size, first_step
        self.micro_steps = micro_steps
        names = list(data.streams)
        if weights is None:  # token share: every token of the split is equally likely
            total = data.tokens
            weights = {s: data.streams[s].tokens / total for s in names}
        self.weights = weights
        self.sources = [s for s in names if weights.get(s, 0) > 0]
        self.p = np.array([weights[s] for s in self.sources])
        self.p /= self.p.sum()
        # This rank's slice [lo, hi) of every stream, and the number of window starts inside it.
        self.lo, self.starts = [], []
        for s in self.sources:
            n = data.streams[s].tokens
            lo, hi = n * rank // world_size, n * (rank + 1) // world_size
            if hi - lo < block_size + 1:
                raise ConfigError(
                    f"source {s!r}: {n} {data.split} tokens over {world_size} rank(s) leave {hi - lo} per rank, "
                    f"fewer than block_size + 1 = {block_size + 1}")
            self.lo.append(lo)
            self.starts.append(hi - lo - block_size)

        self.plan = EpochPlan(self, micro_steps) if sampler == "epoch" else None

    def positions(self, step: int, micro: int = 0) -> list[tuple[str, int]]:
        """(source, stream position) of each window of a batch."""
        if self.plan is not None:
            k, w = self.plan.windows(step, micro)
            return [(self.sources[a], int(self.plan.starts[a][b])) for a, b in zip(k, w)]
        rng = np.random.default_rng([self.seed, step, micro, self.rank])
        which = rng.choice(len(self.sources), size=self.B, p=self.p)
        u = rng.random(self.B)
        return [(self.sources[k], self.lo[k] + int(u[i] * self.starts[k])) for i, k in enumerate(which)]

    def batch_numpy(self, step: int, micro: int = 0) -> np.ndarray:
        if self.plan is not None:
            return self.plan.gather(step, micro)
        buf = np.empty((self.B, self.T + 1), dtype=np.int64)
        segs, streams = self.data.segments, self.data.streams
        for row, (src, pos) in zip(buf, self.positions(step, micro)):
            streams[src].read(segs, pos, row)
        return buf

    def batch(self, step: int, micro: int = 0, device: str = "cpu"):
        import torch

        buf = torch.from_numpy(self.batch_numpy(step, micro))
        if device.startswith("cuda"):  # pinned host memory lets the copy overlap compute
            buf = buf.pin_memory().to(device, non_blocking=True)
        return buf[:, :-1], buf[:, 1:]

    def state_dict(self) -> dict:
        return {"seed": self.seed, "block_size": self.T, "batch_size": self.B, "weights": self.weights,
                "sampler": "epoch" if self.plan is not None else "random", "first_step": self.first_step}


def planned_epochs(data: ShardSplit, weights: dict[str, float]) -> dict[str, float]:
    """Epochs per source over one plan: the manifest's `planned_epochs` when present (shards already
    hold its repeats, so each is 1 pass here), else weight / token share (token share -> 1.0 each)."""
    if data.manifest.extra.get("planned_epochs") and weights == {
            s: data.streams[s].tokens / data.tokens for s in data.streams}:
        return {s: 1.0 for s in data.streams}
    total = data.tokens
    return {s: weights.get(s, 0.0) / (data.streams[s].tokens / total) for s in data.streams}


class EpochPlan:
    """Epoch-exact order: a seeded permutation of the slots of one plan (every window of source s
    `epochs[s]` times), then each source's occurrences walk its own per-epoch window permutation."""

    def __init__(self, ld: TrainLoader, micro_steps: int = 1):
        self.ld, self.M, self.L = ld, micro_steps, ld.T + 1
        data = ld.data
        self.epochs = planned_epochs(data, ld.weights)
        self.starts = []  # per source: stream position of each window of this rank's slice
        for k, s in enumerate(ld.sources):
            lo, hi = ld.lo[k], ld.lo[k] + ld.starts[k] + ld.T
            self.starts.append(_tile(data.streams[s], lo, hi, self.L))
            if not len(self.starts[-1]):
                raise ConfigError(
                    f"source {s!r}: no window of block_size + 1 = {self.L} tokens fits inside one shard of this "
                    f"rank's slice (the epoch sampler keeps windows within a shard); --sampler random, or write "
                    f"fewer, larger shards")
        counts = np.array([max(1, round(self.epochs[s] * len(w))) for s, w in zip(ld.sources, self.starts)])
        self.counts = counts
        self.joint: Stream | None = None
        self._passes: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._lock = threading.Lock()  # the prefetch thread and the trace may ask for a pass at once
        self.labels = np.repeat(np.arange(len(counts)), counts).astype(np.int32)
        self.slots = len(self.labels)

    def windows(self, step: int, micro: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """(source index, window index) of each row of batch (step, micro): slices of the pass tables."""
        if micro >= self.M:
            raise ConfigError(f"micro-step {micro} >= micro_steps {self.M} given to the loader")
        if step < self.ld.first_step:
            raise ConfigError(f"step {step} is before this loader's first step {self.ld.first_step}")
        B = self.ld.B
        first = ((step - self.ld.first_step) * self.M + micro) * B
        p, a = divmod(first, self.slots)
        src, win = self._pass(p)
        if a + B <= self.slots:  # the usual case: the batch lies in one pass
            return src[a: a + B], win[a: a + B]
        parts, i = [], first
        while i < first + B:  # across the end of a pass (or several, for a tiny split)
            p, a = divmod(i, self.slots)
            take = min(self.slots - a, first + B - i)
            parts.append(tuple(x[a: a + take] for x in self._pass(p)))
            i += take
        return np.concatenate([x for x, _ in parts]), np.concatenate([y for _, y in parts])

    def _pass(self, p: int) -> tuple[np.ndarray, np.ndarray]:
        """Pass p as two tables over its slots: source index and window index. Slot order is a seeded
        permutation of the labels; the i-th occurrence of source k in pass p is its (p * counts[k] + i)-th
        window overall, i.e. epoch e, index j of that source's per-epoch permutation. Built once per pass
        (vectorised), so a batch is two slices."""
        with self._lock:
            return self._passes.get(p) or self._build(p)

    def _build(self, p: int) -> tuple[np.ndarray, np.ndarray]:
        if len(self._passes) >= 2:  # the current pass and the next (a batch may straddle them)
            self._passes.pop(min(self._passes))
        seed, rank = self.ld.seed, self.ld.rank
        order = np.random.default_rng([seed, rank, 1 << 20, p]).permutation(self.slots)
        src = self.labels[order]
        win = np.empty(self.slots, np.int64)
        for k in range(len(self.starts)):
            m = np.flatnonzero(src == k)
            n = len(self.starts[k])
            e, j = np.divmod(p * int(self.counts[k]) + np.arange(len(m)), n)  # the source's own epoch count
            for ee in np.unique(e):
                sel = e == ee
                win[m[sel]] = _perm(seed, rank, k, int(ee), n)[j[sel]]
        self._passes[p] = (src, win)
        return src, win

    def gather(self, step: int, micro: int = 0) -> np.ndarray:
        src, win = self.windows(step, micro)
        if self.joint is None:
            self._index()
        w = self.joff[src] + win
        buf = np.empty((self.ld.B, self.L), dtype=np.int64)
        _multi_span(self.joint, self.ld.data.segments, self.jstarts[w], self.jspan[w], self.jcount[w], buf)
        return buf

    def _index(self) -> None:
        """All sources as one span table, and per window (all sources' windows, concatenated) its
        joint stream position, first span and span count: the binary searches are done once here,
        in order, instead of per batch at random (cache misses: ~40 us a batch on 30-token documents)."""
        sts = [self.ld.data.streams[s] for s in self.ld.sources]
        base = np.cumsum([0] + [int(st.cum[-1]) for st in sts])
        cum = np.concatenate([[0]] + [st.cum[1:] + b for st, b in zip(sts, base)])
        self.joint = Stream("*", np.concatenate([st.seg for st in sts]), np.concatenate([st.start for st in sts]), cum)
        self.jstarts = np.concatenate([w + b for w, b in zip(self.starts, base)])
        self.joff = np.cumsum([0] + [len(w) for w in self.starts])
        self.jspan = np.searchsorted(cum, self.jstarts, side="right") - 1
        self.jcount = (np.searchsorted(cum, self.jstarts + self.L - 1, side="right") - self.jspan).astype(np.int32)


def _multi_span(st: Stream, segs: list[np.ndarray], pos: np.ndarray, i0: np.ndarray, n: np.ndarray,
                buf: np.ndarray) -> None:
    """Fill buf with stream windows starting at `pos` (first span i0, n spans), each within one
    segment but maybe over many spans (documents): per covered span, its (segment start - stream
    start) shift plus its row's start repeated over the window tokens inside it, then + arange(L) in
    place, so the index is one np.repeat and the read one fancy-index gather (per row when the
    batch spans several segments). This replaced a per-span Python loop (0.08x a vectorised memmap
    gather on 30-token documents)."""
    L = buf.shape[1]
    if (n == 1).all():  # every window inside one span (long documents of one source): as a memmap gather
        idx = (st.start[i0] - st.cum[i0] + pos)[:, None] + _arange(L)
    else:
        k = np.repeat(i0 - np.cumsum(n) + n, n) + np.arange(n.sum())  # covered span ids, row by row
        p = np.repeat(pos, n)
        lo, hi = st.cum[k], st.cum[k + 1]
        take = np.minimum(hi, p + L) - np.maximum(lo, p)
        # segment index of the row's first token, as if the span began it
        idx = np.repeat(st.start[k] - lo + p, take).reshape(len(pos), L)
        idx += _arange(L)  # in place: this path is memory-bound
    g = st.seg[i0]
    if (g == g[0]).all():
        buf[...] = segs[g[0]][idx]
        return
    for r, s in enumerate(g.tolist()):  # rows from several shards: a view per row, no mask copies
        buf[r] = segs[s][idx[r]]


_CACHE: dict = {}


def _arange(n: int) -> np.ndarray:
    key = ("arange", n)
    if key not in _CACHE:
        _CACHE[key] = np.arange(n)
    return _CACHE[key]


def _perm(seed: int, rank: int, k: int, e: int, n: int) -> np.ndarray:
    key = (seed, rank, k, e, n)
    if key not in _CACHE:
        if len(_CACHE) > 64:
            _CACHE.clear()
        _CACHE[key] = np.random.default_rng([seed, rank, k, e]).permutation(n)
    return _CACHE[key]


def _tile(st: Stream, lo: int, hi: int, L: int) -> np.ndarray:
    """Window starts tiling stream range [lo, hi) without crossing a segment; each piece's last
    window is aligned to its end. Pieces shorter than L (a source's few tokens in a shard) are skipped."""
    change = np.flatnonzero(np.diff(st.seg)) + 1
    bounds = np.unique(np.clip(np.concatenate([[lo, hi], st.cum[change]]), lo, hi))
    out = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        if b - a < L:
            continue
        s = np.arange(a, b - L + 1, L)
        if s[-1] + L < b:
            s = np.append(s, b - L)
        out.append(s)
    return np.concatenate(out) if out else np.zeros(0, np.int64)


def coverage(loader: TrainLoader, steps: int | None = None) -> dict[str, float]:
    """Fraction of this rank's tokens seen at least once and exactly once over `steps` optimizer steps
    from the loader's first step (default: one planned epoch = slots / (batch * micro_steps)), and
    seen 3+ times; `as_planned`: seen its source's planned epochs of times (rounded down or up; 1 for
    the token-share mix). One difference array per source: memory is 4 bytes per token of the rank's slice."""
    M = loader.micro_steps
    if steps is None:
        slots = loader.plan.slots if loader.plan is not None else loader.data.tokens // (loader.T + 1)
        steps = -(-slots // (loader.B * M))
    where: dict[str, list[int]] = {s: [] for s in loader.sources}
    for step in range(loader.first_step, loader.first_step + steps):
        for micro in range(M):
            for s, pos in loader.positions(step, micro):
                where[s].append(pos)
    epochs = planned_epochs(loader.data, loader.weights)
    counts, planned = [], 0
    for k, s in enumerate(loader.sources):
        a = np.asarray(where[s], np.int64) - loader.lo[k]
        diff = np.zeros(loader.starts[k] + loader.T + 1, np.int32)
        np.add.at(diff, a, 1)
        np.add.at(diff, a + loader.T + 1, -1)
        c = np.cumsum(diff[:-1], dtype=np.int32)
        lo, hi = np.floor(epochs[s] + 1e-9), np.ceil(epochs[s] - 1e-9)  # e.g. 1 -> [1, 1], 2.3 -> [2, 3]
        planned += int(((c >= lo) & (c <= hi)).sum())
        counts.append(c)
    c = np.concatenate(counts)
    n = len(c)
    return {"steps": steps, "seen": float((c > 0).sum() / n), "once": float((c == 1).sum() / n),
            "never": float((c == 0).sum() / n), "3plus": float((c >= 3).sum() / n), "as_planned": planned / n}


def val_weights(loader: TrainLoader) -> dict[str, float]:
    """The training mix (token share of each source among trained tokens): weights for the 'all' loss."""
    return dict(zip(loader.sources, (float(x) for x in loader.p)))


def val_windows(data: ShardSplit, block_size: int, rank: int = 0, world_size: int = 1,
                max_windows: int | None = None) -> dict[str, list[np.ndarray]]:
    """Per source, this rank's share of consecutive non-overlapping windows of the val stream
    (window i goes to rank i % world_size). A stream shorter than one window is one short window."""
    out: dict[str, list[np.ndarray]] = {}
    for name, stream in data.streams.items():
        n = stream.tokens
        size = min(block_size + 1, n)
        count = n // size if size >= 2 else 0
        if max_windows is not None:
            count = min(count, max_windows)
        rows = []
        for i in range(rank, count, world_size):
            row = np.empty(size, dtype=np.int64)
            stream.read(data.segments, i * size, row)
            rows.append(row)
        out[name] = rows
    return out


class Prefetcher:
    """Background batches: a thread fills a small queue with loader.batch_numpy(step, micro) for the
    given (step, micro) keys in order, so the order is exactly that of calling it inline. `convert`
    (e.g. to pinned torch memory) runs in the thread too. An error in the thread is raised by the
    consumer at the batch it belongs to."""

    def __init__(self, loader, keys, depth: int = 4, convert=None):
        import queue
        import threading

        self.q: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()

        def work():
            try:
                for key in keys:
                    if self._stop.is_set():
                        return
                    buf = loader.batch_numpy(*key)
                    self.q.put((key, convert(buf) if convert else buf))
            except BaseException as err:  # handed to the consumer, which raises it
                self.q.put(_Failed(err))
                return
            self.q.put(None)

        self.thread = threading.Thread(target=work, daemon=True, name="grist-prefetch")
        self.thread.start()

    def __iter__(self):
        while (item := self.q.get()) is not None:
            if isinstance(item, _Failed):
                raise item.err
            yield item

    def close(self) -> None:
        self._stop.set()
        while self.thread.is_alive():  # drain so a blocked put returns
            try:
                self.q.get_nowait()
            except Exception:
                self.thread.join(0.01)


@dataclass
class _Failed:
    err: BaseException


def main(argv: list[str] | None = None) -> int:
    """`python -m trainer.data SHARDS [--block 1024 --batch 16 --steps N]`: the coverage figure of one
    planned epoch, epoch sampler vs the with-replacement sampler on the same token budget."""
    import argparse

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("shards")
    ap.add_argument("--block", type=int, default=1024)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    data = open_split(args.shards, "train")
    epoch = TrainLoader(data, args.block, args.batch, args.seed, sampler="epoch")
    for name, ld in (("epoch", epoch), ("random", TrainLoader(data, args.block, args.batch, args.seed))):
        c = coverage(ld, -(-epoch.plan.slots // args.batch))
        print(f"{name:6s} sampler, {c['steps']} steps (one planned epoch): tokens seen {c['seen']:.1%}, "
              f"exactly once {c['once']:.1%}, never {c['never']:.1%}, 3+ times {c['3plus']:.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
