"""MinHash signatures, vectorised with numpy and equal to datasketch's, and LSH band keys.

Equality with datasketch (`MinHash(num_perm, seed, scheme)` fed the same shingle bytes) holds by
construction: the permutation parameters are taken from a datasketch MinHash, shingles are hashed
with SHA1 (first 4 bytes, little endian: datasketch's `sha1_hash32`), and the permutation is
datasketch's arithmetic on whole arrays (`tests/dedup/test_minhash.py` checks it).

Why it is faster than `update_batch` (measured on 2.2 KB documents, 128 permutations): shingles
are byte slices of one encoded buffer cut at precomputed offsets instead of joined word lists,
whole 20-byte digests are concatenated and strided (no per-shingle slicing or struct.unpack), and
the permutation runs in chunks that stay in cache. The dedup stage goes further and hashes a batch
of documents per numpy pass (`batch_gram_hashes`, `MinHasher.signatures`, `band_key_matrix`):
measured on 2 KB documents, 18.4k documents/s on one core against 13.2k one at a time and 3.2k
for datasketch's `update_batch`. `benchmarks/bench_minhash.py` has the numbers.
"""

from __future__ import annotations

import hashlib

import numpy as np
import xxhash

from filters.dedup.config import MinHashConfig
from filters.dedup.exact import shingle_text
from filters.text import cjk_count

_MERSENNE = np.uint64((1 << 61) - 1)
_FMIX32 = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35), np.uint32(16))


def _fmix(hv: np.ndarray) -> np.ndarray:
    """datasketch's `_fmix(hv, 32)` (murmur3's 32-bit finaliser), its pre-mix for "affine32": copied
    so that workers need not import datasketch (1.5 s with its scipy imports on a loaded machine);
    tests/dedup/test_minhash.py checks signatures against datasketch itself."""
    s1, m1, s2, m2, s3 = _FMIX32
    hv = hv ^ (hv >> s1)
    hv = hv * m1
    hv = hv ^ (hv >> s2)
    hv = hv * m2
    return hv ^ (hv >> s3)

_MAX32 = np.uint64((1 << 32) - 1)
# Shingles per permutation chunk: 4096 x 128 x 4 bytes = 2 MB stays in L2/L3; one big matrix
# per document batch was 25x slower per document.
_CHUNK = 4096
_sha1 = hashlib.sha1


class Shingler:
    """Turns a normalised text into the byte buffer its grams are cut from: words for
    space-separated scripts, characters (spaces removed) for Chinese/Japanese and `char_sources`."""

    def __init__(self, cfg: MinHashConfig):
        self.char_sources = frozenset(cfg.char_sources)
        self.cjk_min = cfg.cjk_min_fraction

    def prepare(self, norm: str, source: str) -> tuple[bytes, bool]:
        text = shingle_text(norm)
        chars = source in self.char_sources
        if not chars and not text.isascii():
            letters = len(text) - text.count(" ")
            chars = letters > 0 and cjk_count(text) >= self.cjk_min * letters
        if chars:
            text = text.replace(" ", "")
        return text.encode("utf-8"), chars


def gram_bounds_np(buf: bytes, n: int, chars: bool) -> tuple[np.ndarray, np.ndarray]:
    """Byte offsets (starts, ends) of the n-grams of `buf`: tokens are single-space separated
    words, or UTF-8 characters when `chars`. Fewer than n tokens: the whole text is one gram."""
    if not buf:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    arr = np.frombuffer(buf, np.uint8)
    whole = np.array([0]), np.array([len(buf)])
    if chars:
        tok = np.flatnonzero((arr & 0xC0) != 0x80)  # first bytes of UTF-8 characters
        if len(tok) <= n:
            return whole
        return tok[: len(tok) - n + 1], np.append(tok[n:], len(buf))
    sp = np.flatnonzero(arr == 32)
    ntok = len(sp) + 1
    if ntok <= n:
        return whole
    return np.concatenate(([0], sp[: ntok - n] + 1)), np.append(sp[n - 1 :], len(buf))


def gram_bounds(buf: bytes, n: int, chars: bool) -> tuple[list[int], list[int]]:
    starts, ends = gram_bounds_np(buf, n, chars)
    return starts.tolist(), ends.tolist()


def sha1_hashes(buf: bytes, starts: list[int], ends: list[int]) -> np.ndarray:
    """datasketch's sha1_hash32 of every gram, as uint32."""
    if not starts:
        return np.empty(0, np.uint32)
    digests = b"".join([_sha1(buf[s:e]).digest() for s, e in zip(starts, ends)])
    return np.frombuffer(digests, "<u4")[::5].astype(np.uint32)


# Polynomial hash mod 2^64 of every gram at once: with B odd, B is invertible mod 2^64, so
# Q[i] = sum_{k<i} byte[k] * B^-k (a wrapping cumsum) gives hash(s, e) = (Q[e] - Q[s]) * B^(e-1)
# = sum_{k=s}^{e-1} byte[k] * B^(e-1-k) for all grams in a few numpy passes (no per-gram Python),
# then murmur3's 64-bit finaliser; the top 32 bits are the gram hash.
# best of 3 on a loaded machine, 400-word documents: 43 us against 242 us per document for one
# sha1 call per gram (sha1 was a third of the dedup scan).
_B = 0x9E3779B97F4A7C15
_POW: list[np.ndarray] = [np.ones(1, np.uint64), np.ones(1, np.uint64)]  # B^i, B^-i


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    if len(_POW[0]) < n:
        size = max(n, 2 * len(_POW[0]), 1 << 16)
        for j, base in enumerate((_B, pow(_B, -1, 1 << 64))):
            p = np.full(size, base, np.uint64)
            p[0] = 1
            _POW[j] = np.cumprod(p, dtype=np.uint64)  # wraps mod 2^64
    return _POW[0][:n], _POW[1][:n]


def _fmix64(h: np.ndarray) -> np.ndarray:
    """murmur3's 64-bit finaliser, in place (h is a fresh array)."""
    s, m1, m2 = np.uint64(33), np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> s
    h *= m1
    h ^= h >> s
    h *= m2
    h ^= h >> s
    return h


def poly_hashes(buf: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """32-bit hash of every gram `buf[s:e]` (see above), as uint32."""
    if not len(starts):
        return np.empty(0, np.uint32)
    pw, inv = _powers(len(buf))
    q = np.zeros(len(buf) + 1, np.uint64)
    np.cumsum(np.frombuffer(buf, np.uint8).astype(np.uint64) * inv, out=q[1:])
    h = (q[ends] - q[starts]) * pw[ends - 1]
    return (_fmix64(h) >> np.uint64(32)).astype(np.uint32)


def gram_hashes(buf: bytes, n: int, chars: bool, kind: str = "poly64") -> np.ndarray:
    """The hash of every n-gram of `buf`: "sha1" = datasketch's sha1_hash32, "poly64" = `poly_hashes`."""
    starts, ends = gram_bounds_np(buf, n, chars)
    if kind == "sha1":
        return sha1_hashes(buf, starts.tolist(), ends.tolist())
    return poly_hashes(buf, starts, ends)


# Documents per batched hashing group: their shingle bytes joined stay about this size, so the
# polynomial hash's power tables and prefix sums (8 bytes per input byte, three of them) stay small.
# 64 KiB against 256 KiB, measured: 21.5-21.6k against 20.7-20.8k documents/s (benchmarks'
# `grist_batch_signer`, best of 5), and a 16 MB scan part's peak RSS 7 MiB lower.
_GROUP_BYTES = 1 << 16


def batch_gram_hashes(bufs: list[bytes], chars: list[bool], word_n: int, char_n: int,
                      kind: str = "poly64") -> tuple[np.ndarray, np.ndarray]:
    """`gram_hashes` of many documents at once: (hashes, offsets), document i's at
    hashes[offsets[i]:offsets[i + 1]], equal element for element to
    `gram_hashes(bufs[i], char_n if chars[i] else word_n, chars[i], kind)` (an empty buffer: none).
    The documents are joined by spaces and cut and hashed in a few numpy passes per group, instead
    of a dozen numpy calls per document (measured below in `benchmarks/bench_minhash.py`)."""
    if kind != "poly64":
        parts = [gram_hashes(b, char_n if c else word_n, c, kind) if b else np.empty(0, np.uint32)
                 for b, c in zip(bufs, chars)]
        return _concat(parts)
    out: list[np.ndarray] = []
    counts: list[np.ndarray] = []
    lo, size = 0, 0
    for i, b in enumerate(bufs):
        size += len(b) + 1
        if size >= _GROUP_BYTES or i == len(bufs) - 1:
            h, c = _group_gram_hashes(bufs[lo:i + 1], chars[lo:i + 1], word_n, char_n)
            out.append(h)
            counts.append(c)
            lo, size = i + 1, 0
    hv = np.concatenate(out) if out else np.empty(0, np.uint32)
    offsets = np.zeros(len(bufs) + 1, np.int64)
    if counts:
        np.cumsum(np.concatenate(counts), out=offsets[1:])
    return hv, offsets


def _concat(parts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.zeros(len(parts) + 1, np.int64)
    np.cumsum([len(p) for p in parts], out=offsets[1:])
    return (np.concatenate(parts).astype(np.uint32) if parts else np.empty(0, np.uint32)), offsets


def _group_gram_hashes(bufs: list[bytes], chars: list[bool], word_n: int, char_n: int) -> tuple[np.ndarray, np.ndarray]:
    """One group of `batch_gram_hashes`: (hashes in document order, grams per document)."""
    d = len(bufs)
    lens = np.fromiter(map(len, bufs), np.int64, d)
    joined = b" ".join(bufs)
    start = np.zeros(d, np.int64)
    np.cumsum(lens[:-1] + 1, out=start[1:])
    end = start + lens
    arr = np.frombuffer(joined, np.uint8)
    sp = np.flatnonzero(arr == 32)
    tok_start = np.concatenate(([0], sp + 1))  # token k spans [tok_start[k], tok_end[k])
    tok_end = np.append(sp, len(joined))
    is_char = np.fromiter(chars, bool, d)
    first = np.searchsorted(sp, start)  # index of a document's first token: spaces before it
    ntok = np.searchsorted(sp, end) - first + 1
    word = ~is_char & (lens > 0)
    many = np.flatnonzero(word & (ntok > word_n))
    whole = np.flatnonzero(word & (ntok <= word_n))  # fewer tokens than n: the whole text is one gram
    docs, starts, ends = [whole], [start[whole]], [end[whole]]
    if len(many):
        c = ntok[many] - word_n + 1
        within = np.arange(int(c.sum())) - np.repeat(np.cumsum(c) - c, c)
        k = np.repeat(first[many], c) + within
        docs.append(np.repeat(many, c))
        starts.append(tok_start[k])
        ends.append(tok_end[k + word_n - 1])
    for i in np.flatnonzero(is_char & (lens > 0)).tolist():
        s, e = gram_bounds_np(bufs[i], char_n, True)
        docs.append(np.full(len(s), i))
        starts.append(s + start[i])
        ends.append(e + start[i])
    doc = np.concatenate(docs)
    order = np.argsort(doc, kind="stable")  # per document, its grams in the order of their starts
    hv = poly_hashes(joined, np.concatenate(starts)[order], np.concatenate(ends)[order])
    return hv, np.bincount(doc, minlength=d)


def xxh64_hashes(buf: bytes, starts: list[int], ends: list[int], seed: int = 0) -> np.ndarray:
    h = xxhash.xxh64_intdigest
    return np.fromiter((h(buf[s:e], seed) for s, e in zip(starts, ends)), np.uint64, len(starts))


def minhash_params(num_perm: int = 128, seed: int = 1, scheme: str = "affine32") -> dict[str, list[int]]:
    """datasketch's permutation parameters and empty signature (plain lists: they ship in a plan),
    drawn as datasketch 2.0's `MinHash._init_permutations` / `_init_hashvalues` draw them (numpy's
    RandomState(seed)) without importing datasketch: 0.5 s of the driver's start-up with its
    scipy imports. tests/dedup/test_minhash.py checks them against datasketch's own."""
    gen = np.random.RandomState(seed)
    if scheme == "legacy":
        pairs = [(gen.randint(1, _MERSENNE, dtype=np.uint64), gen.randint(0, _MERSENNE, dtype=np.uint64))
                 for _ in range(num_perm)]
        a, b = np.array(pairs, dtype=np.uint64).reshape(num_perm, 2).T
        empty = np.full(num_perm, _MAX32, np.uint64)
    elif scheme == "affine32":
        a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)  # odd: a bijection
        b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
        empty = np.full(num_perm, (1 << 32) - 1, np.uint32)
    else:
        raise ValueError(f"unknown MinHash scheme {scheme!r}")
    return {"a": a.tolist(), "b": b.tolist(), "empty": empty.tolist(), "dtype": str(empty.dtype)}


class MinHasher:
    """Signatures of shingle-hash arrays, equal to datasketch's for the same num_perm/seed/scheme.
    `params` (from `minhash_params`, computed once on the driver) spares the datasketch import."""

    def __init__(self, num_perm: int = 128, seed: int = 1, scheme: str = "affine32", params: dict | None = None):
        params = params or minhash_params(num_perm, seed, scheme)
        self.scheme = scheme
        dtype = np.uint64 if scheme == "legacy" else np.dtype(params["dtype"])
        self.a = np.asarray(params["a"], dtype)
        self.b = np.asarray(params["b"], dtype)
        self.empty = np.asarray(params["empty"], np.dtype(params["dtype"]))

    def _permuted(self, chunk: np.ndarray, buf: np.ndarray | None = None) -> np.ndarray:
        """(num_perm, len(chunk)): every permutation of every gram hash in `chunk`, written into
        `buf` (num_perm x _CHUNK, reused across chunks) when given. Permutations as rows, grams
        as columns: measured with 4,096 grams x 128 permutations, the outer product is 6x and a
        per-document `minimum.reduceat` along the rows 25x faster than the transpose."""
        out = None if buf is None else buf[:, : len(chunk)]
        if self.scheme == "legacy":
            phv = np.multiply.outer(self.a, chunk.astype(np.uint64), out=out)  # wraps mod 2^64 like datasketch
            phv += self.b[:, None]
            phv %= _MERSENNE
            phv &= _MAX32
        else:
            phv = np.multiply.outer(self.a, _fmix(chunk), out=out)
            phv += self.b[:, None]
        return phv

    def signature(self, hv: np.ndarray) -> np.ndarray:
        """MinHash of the gram hashes `hv` (uint32); empty input gives datasketch's empty value."""
        out = self.empty.copy()
        for i in range(0, len(hv), _CHUNK):
            np.minimum(out, self._permuted(hv[i : i + _CHUNK]).min(axis=1), out=out)
        return out

    def signatures(self, hv: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """Signatures of many documents, (documents, num_perm): document i's gram hashes are
        hv[offsets[i]:offsets[i + 1]] (as `batch_gram_hashes` gives them). Equal to `signature`
        row by row; consecutive documents are permuted together, up to _CHUNK grams at a time,
        and reduced per document with one `minimum.reduceat`."""
        d = len(offsets) - 1
        out = np.tile(self.empty, (d, 1))
        counts = np.diff(offsets)
        buf = np.empty((len(self.a), _CHUNK), self.a.dtype)  # one buffer: no allocation per chunk
        i = 0
        while i < d:
            if counts[i] == 0:
                i += 1
                continue
            if counts[i] >= _CHUNK:
                out[i] = self.signature(hv[offsets[i]:offsets[i + 1]])
                i += 1
                continue
            j = min(d, max(i + 1, int(np.searchsorted(offsets, offsets[i] + _CHUNK, side="right")) - 1))
            nonempty = i + np.flatnonzero(counts[i:j])
            lo = int(offsets[i])
            phv = self._permuted(hv[lo:int(offsets[j])], buf)
            out[nonempty] = np.minimum(out[nonempty], np.minimum.reduceat(phv, offsets[nonempty] - lo, axis=1).T)
            i = j
        return out

    def text_signature(self, buf: bytes, n: int, chars: bool) -> np.ndarray:
        return self.signature(sha1_hashes(buf, *gram_bounds(buf, n, chars)))


_BAND_MUL = np.uint64(0x9E3779B97F4A7C15)


def band_key_matrix(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(documents, bands) uint64: one key per band, a hash of its rows seeded with the band index
    (equal rows in different bands never share a key), for all documents in a few numpy passes:
    per row h = (h ^ value) * odd constant (a bijection of h for each value), then murmur3's
    64-bit finaliser."""
    v = np.ascontiguousarray(sigs[:, : bands * rows]).astype(np.uint64).reshape(len(sigs), bands, rows)
    h = np.broadcast_to(_fmix64(np.arange(1, bands + 1, dtype=np.uint64) * _BAND_MUL), (len(sigs), bands)).copy()
    for r in range(rows):
        h ^= v[:, :, r]
        h *= _BAND_MUL
    return _fmix64(h)


def band_keys(sig: np.ndarray, bands: int, rows: int) -> list[int]:
    """The band keys of one signature (`band_key_matrix` of one row)."""
    return band_key_matrix(np.asarray(sig)[None, :], bands, rows)[0].tolist()


def candidate_probability(s: np.ndarray | float, bands: int, rows: int):
    """P(two documents of Jaccard s share at least one band)."""
    return 1.0 - (1.0 - np.asarray(s, dtype=float) ** rows) ** bands


def lsh_params(threshold: float, num_perm: int, fn_weight: float = 0.5) -> tuple[int, int]:
    """bands x rows minimising fp_weight * P(false positive) + fn_weight * P(false negative)
    integrated over Jaccard (datasketch's criterion, with numpy integration)."""
    best, best_cost = (1, num_perm), float("inf")
    lo = np.linspace(0.0, threshold, 101)
    hi = np.linspace(threshold, 1.0, 101)
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            fp = np.trapezoid(candidate_probability(lo, b, r), lo)
            fn = np.trapezoid(1.0 - candidate_probability(hi, b, r), hi)
            cost = (1.0 - fn_weight) * fp + fn_weight * fn
            if cost < best_cost - 1e-12:
                best, best_cost = (b, r), cost
    return best


def resolve_bands(cfg: MinHashConfig, threshold: float) -> tuple[int, int]:
    """Given bands x rows, or derived from the threshold. With verification a false positive only
    costs a Jaccard check, so misses weigh 0.95: at threshold 0.8 and 128 permutations that gives
    16 x 8 (P(candidate) 0.95 at J=0.8, 0.24 at J=0.6) instead of 9 x 13 (0.40 at J=0.8)."""
    if cfg.bands is not None and cfg.rows is not None:
        return cfg.bands, cfg.rows
    return lsh_params(threshold, cfg.num_perm, 0.95 if cfg.verify else 0.5)
