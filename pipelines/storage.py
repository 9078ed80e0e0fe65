"""One storage layer for every output: a local path or an object store (s3://, gs://, memory://).

Locations are `pathlib.Path` for local paths and `upath.UPath` (the pathlib API over fsspec) for
URLs, so `/`, `.name`, `.glob()`, `.exists()`, `.read_text()` work the same on both. Everything
that writes goes through `open_commit` / `commit_bytes`, which is correct on both kinds of store:

- POSIX: write a temporary file whose name is unique per attempt (host, pid, random), fsync it,
  rename it into place, fsync the folder. Readers never see a half-written file; two attempts of
  the same part (a retried task on another node) never write the same temporary.
- Object stores: there is no rename. An object PUT is atomic (the object appears whole or not at
  all), so the final object is written directly; a failed attempt discards its upload.

Commit order does the rest: a part's data objects first, its marker (stats JSON) last, and readers
trust only parts whose marker exists (`pipelines.parts.kept_parts`).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import shutil
import socket
import tempfile
import uuid
from pathlib import Path
from typing import IO, Any, Iterator

Location = Path  # a pathlib.Path, or a upath.UPath for URLs (same API, not a Path subclass)

_LOCAL_PROTOCOLS = {"", "file", "local"}


def location(path: str | os.PathLike) -> Path:
    """The location object for a config path or URL."""
    if isinstance(path, Path) or hasattr(path, "protocol"):  # pathlib.Path or upath.UPath
        return path
    path = os.fspath(path)
    if "://" in path and not path.startswith("file://"):
        from upath import UPath

        return UPath(path)
    return Path(path.removeprefix("file://"))


def is_remote(path: str | os.PathLike) -> bool:
    p = location(path)
    return getattr(p, "protocol", "") not in _LOCAL_PROTOCOLS


def uri(path: str | os.PathLike) -> str:
    """The string a user would type for this location (`s3://bucket/key` or a local path)."""
    return str(location(path))


def _fs_path(path: Path) -> tuple[Any, str]:
    """(fsspec filesystem, path inside it) of a remote location."""
    return path.fs, path.path


def ensure_dir(path: Path) -> None:
    """Make a folder (object stores have none: nothing to do)."""
    if not is_remote(path):
        Path(path).mkdir(parents=True, exist_ok=True)


def _temp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}")


def fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class _HashingWriter(io.RawIOBase):
    """Counts and hashes the bytes on their way to the file, so a commit can record what it wrote
    (size and sha256) without reading it back."""

    def __init__(self, raw: IO[bytes]):
        self.raw = raw
        self.sha = hashlib.sha256()
        self.nbytes = 0

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        n = self.raw.write(b)
        n = len(b) if n is None else n
        self.sha.update(memoryview(b)[:n])
        self.nbytes += n
        return n

    def tell(self) -> int:
        return self.nbytes

    def flush(self) -> None:
        self.raw.flush()


class PendingFile:
    """A file being written that becomes visible, complete, at `commit()` and never if `abort()`ed.
    `durable` fsyncs on POSIX (parts and markers need it; scratch files do not). After `commit()`,
    `record` is {"bytes", "sha256"} of what was written, for the marker that vouches for it."""

    def __init__(self, path: str | os.PathLike, *, durable: bool = True):
        self.path = location(path)
        self.durable = durable
        self.remote = is_remote(self.path)
        self.record: dict[str, Any] = {}
        if self.remote:
            fs, key = _fs_path(self.path)
            self._raw: IO[bytes] = fs.open(key, "wb")
            self._tmp = None
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._tmp = _temp_name(self.path)
            self._raw = open(self._tmp, "wb")
        self.file = _HashingWriter(self._raw)

    def commit(self) -> None:
        self.record = {"bytes": self.file.nbytes, "sha256": self.file.sha.hexdigest()}
        if self.remote:
            self._raw.close()  # the PUT (or the multipart upload's completion) happens here
            return
        self._raw.flush()
        if self.durable:
            os.fsync(self._raw.fileno())
        self._raw.close()
        if os.path.getsize(self._tmp) != self.record["bytes"]:  # never vouch for a short file
            raise OSError(errno.EIO, f"{self.path}: wrote {os.path.getsize(self._tmp)} of {self.record['bytes']} bytes")
        os.replace(self._tmp, self.path)
        if self.durable:
            fsync_dir(self.path.parent)

    def abort(self) -> None:
        if self.remote:
            with contextlib.suppress(Exception):
                if hasattr(self._raw, "discard"):
                    self._raw.discard()  # fsspec: drop the buffered/multipart upload, write nothing
                self._raw.closed = True  # so that garbage collection does not close() = upload it
            return
        with contextlib.suppress(OSError):
            self._raw.close()
        with contextlib.suppress(OSError):
            os.unlink(self._tmp)


@contextlib.contextmanager
def pending_commit(path: str | os.PathLike, *, durable: bool = True) -> Iterator[PendingFile]:
    """A `PendingFile` committed when the block ends without error, aborted otherwise; its `record`
    (bytes, sha256 of what was written) is there once the block has ended."""
    pending = PendingFile(path, durable=durable)
    try:
        yield pending
    except BaseException:
        pending.abort()
        raise
    pending.commit()


@contextlib.contextmanager
def open_commit(path: str | os.PathLike, *, durable: bool = True) -> Iterator[IO[bytes]]:
    """Write `path` all at once: complete when the block ends without error, absent (or unchanged)
    otherwise."""
    with pending_commit(path, durable=durable) as pending:
        yield pending.file


def commit_bytes(path: str | os.PathLike, data: bytes, *, durable: bool = True) -> None:
    with open_commit(path, durable=durable) as f:
        f.write(data)


def commit_json(path: str | os.PathLike, obj: Any) -> None:
    commit_bytes(path, (json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode())


def read_json(path: str | os.PathLike) -> Any:
    return json.loads(location(path).read_text(encoding="utf-8"))


def open_read(path: str | os.PathLike, block_size: int = 8 * 1024 * 1024) -> IO[bytes]:
    """A seekable binary reader; on an object store each read fetches at least `block_size` bytes
    (a ranged GET), so a small probe asks for a small block."""
    path = location(path)
    if is_remote(path):
        fs, key = _fs_path(path)
        return fs.open(key, "rb", block_size=block_size)
    return open(path, "rb")


def arrow_fs(path: str | os.PathLike) -> tuple[Any, str]:
    """(pyarrow filesystem or None, path string) for pyarrow readers (`pq.read_table(p, filesystem=fs)`)."""
    path = location(path)
    if not is_remote(path):
        return None, str(path)
    from pyarrow.fs import FSSpecHandler, PyFileSystem

    fs, key = _fs_path(path)
    return PyFileSystem(FSSpecHandler(fs)), key


def parquet_file(path: str | os.PathLike):
    """A `pyarrow.parquet.ParquetFile` of a local or remote part. A local file is read a row
    group at a time: pyarrow's default `pre_buffer` first loads every row group a read asks for
    (a whole part for `iter_batches`), which on a local disk saves nothing and held a 64 MB part's
    file in memory (measured: reading it in batches peaked +86 MiB, +39 MiB without). On an object
    store it stays on: one coalesced ranged read instead of one per column chunk of every row group."""
    import pyarrow.parquet as pq

    fs, p = arrow_fs(path)
    return pq.ParquetFile(p, filesystem=fs) if fs is not None else pq.ParquetFile(p, pre_buffer=False)


def read_table(path: str | os.PathLike, columns: list[str] | None = None):
    """One Parquet file, whole (or some `columns`). Read through `ParquetFile`: `pq.read_table`
    goes through pyarrow.dataset, whose import and thread pool cost a process 44 MiB and more of
    RSS (measured on the driver: its tokenizer stage's sample rounds +176 MiB) for single files."""
    return parquet_file(path).read(columns=columns)


def size(path: str | os.PathLike) -> int:
    path = location(path)
    if is_remote(path):
        fs, key = _fs_path(path)
        return int(fs.size(key) or 0)
    return path.stat().st_size


def list_files(folder: str | os.PathLike, pattern: str = "*") -> list[Path]:
    """Files of a folder matching a glob, sorted by name (empty if the folder does not exist)."""
    folder = location(folder)
    if is_remote(folder):
        fs, key = _fs_path(folder)
        import fnmatch

        try:
            names = fs.ls(key, detail=False, refresh=True)
        except FileNotFoundError:
            return []
        base = folder
        return sorted((base / n.rsplit("/", 1)[-1] for n in names
                       if fnmatch.fnmatch(n.rsplit("/", 1)[-1], pattern)), key=lambda p: p.name)
    if not folder.is_dir():
        return []
    return sorted(folder.glob(pattern), key=lambda p: p.name)


def list_sizes(folder: str | os.PathLike, pattern: str = "*") -> dict[str, int]:
    """{file name: size} of a folder's files matching a glob, from one listing."""
    folder = location(folder)
    import fnmatch

    if is_remote(folder):
        fs, key = _fs_path(folder)
        try:
            infos = fs.ls(key, detail=True, refresh=True)
        except FileNotFoundError:
            return {}
        return {i["name"].rsplit("/", 1)[-1]: int(i.get("size") or 0) for i in infos
                if i.get("type") == "file" and fnmatch.fnmatch(i["name"].rsplit("/", 1)[-1], pattern)}
    if not folder.is_dir():
        return {}
    out = {}
    with os.scandir(folder) as it:
        for e in it:
            if e.is_file() and fnmatch.fnmatch(e.name, pattern):
                out[e.name] = e.stat().st_size
    return out


def _stamp(info: dict[str, Any]) -> str:
    return str(info.get("ETag") or info.get("etag") or info.get("LastModified") or info.get("mtime") or "")


def tree_listing(folder: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """{path relative to folder: {"size", "stamp"}} of every file below it, from one listing (a
    recursive listing on an object store; temporaries excluded). The stamp is the object's ETag, or
    the file's mtime in ns: what changes when the bytes do."""
    folder = location(folder)
    if is_remote(folder):
        fs, key = _fs_path(folder)
        fs.invalidate_cache()
        try:
            found = fs.find(key, detail=True)
        except FileNotFoundError:
            return {}
        n = len(key.rstrip("/")) + 1
        return {name[n:]: {"size": int(i.get("size") or 0), "stamp": _stamp(i)}
                for name, i in found.items() if i.get("type") == "file" and len(name) > n and not name.endswith("/")}
    out = {}
    for dirpath, _dirs, files in os.walk(folder):
        for f in files:
            if ".tmp-" in f:
                continue
            p = os.path.join(dirpath, f)
            with contextlib.suppress(OSError):
                st = os.stat(p)
                out[os.path.relpath(p, folder)] = {"size": st.st_size, "stamp": str(st.st_mtime_ns)}
    return out


def tree_sizes(folder: str | os.PathLike) -> dict[str, int]:
    """{path relative to folder: size} of every file below it (temporaries excluded)."""
    return {name: info["size"] for name, info in tree_listing(folder).items()}


def read_many(paths: list[str | os.PathLike]) -> list[bytes | OSError]:
    """The bytes of many small files, in order; an unreadable one is its OSError. On an object store
    the GETs run concurrently (one round trip per file, no HEAD first) instead of one after another."""
    locs = [location(p) for p in paths]
    got: dict[int, Any] = {}
    remote = [i for i, p in enumerate(locs) if is_remote(p)]
    if remote and getattr(locs[remote[0]].fs, "async_impl", False):
        from fsspec.asyn import _run_coros_in_chunks, sync

        fs = locs[remote[0]].fs
        mine = [i for i in remote if locs[i].fs is fs]
        # the files' own coroutines, not fs.cat(list): that expands names as globs ("[id].js");
        # s3fs's chunked download would first ask each file's size (a HEAD per file): one GET each
        import inspect

        kw = {"max_concurrency": 1} if "max_concurrency" in inspect.signature(fs._cat_file).parameters else {}
        coros = [fs._cat_file(locs[i].path, **kw) for i in mine]
        results = sync(fs.loop, _run_coros_in_chunks, coros, batch_size=fs.batch_size, nofiles=True,
                       return_exceptions=True)
        got = dict(zip(mine, results))
    out: list[bytes | OSError] = []
    for i, p in enumerate(locs):
        if is_remote(p):
            v = got.get(i)
            if v is None:  # a synchronous filesystem, or not the first remote one: one by one
                try:
                    v = p.fs.cat_file(p.path)
                except OSError as e:
                    v = e
            out.append(v if isinstance(v, (bytes, OSError)) else OSError(errno.EIO, f"{p}: {v!r}"))
            continue
        try:
            out.append(Path(p).read_bytes())
        except OSError as e:
            out.append(e)
    return out


def exists(path: str | os.PathLike) -> bool:
    path = location(path)
    if is_remote(path):
        fs, key = _fs_path(path)
        fs.invalidate_cache(key)
        return fs.exists(key)
    return path.exists()


def remove_tree(path: str | os.PathLike) -> None:
    path = location(path)
    if is_remote(path):
        fs, key = _fs_path(path)
        fs.invalidate_cache()
        if fs.exists(key):
            fs.rm(key, recursive=True)
        return
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def copy_file(src: str | os.PathLike, dst: str | os.PathLike) -> None:
    """Publish `src` at `dst`: a hard link on POSIX (no bytes copied), a server-side copy on an
    object store; either way `dst` appears complete."""
    src, dst = location(src), location(dst)
    if is_remote(dst) or is_remote(src):
        if is_remote(src) and is_remote(dst) and src.fs is dst.fs:
            src.fs.copy(src.path, dst.path)
            return
        with open_read(src) as f:
            commit_bytes(dst, f.read())
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_name(dst)
    try:
        os.link(src, tmp)
    except OSError:
        shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


@contextlib.contextmanager
def local_copy(path: str | os.PathLike) -> Iterator[Path]:
    """A local file with `path`'s bytes, for readers that need one (memory maps): the file itself
    when local, else a temporary download removed afterwards."""
    path = location(path)
    if not is_remote(path):
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="grist-") as d:
        local = Path(d) / path.name
        fs, key = _fs_path(path)
        fs.get(key, str(local))
        yield local


def open_arrow(path: str | os.PathLike):
    """A pyarrow random-access file: memory-mapped when local (zero copy), ranged reads when remote."""
    import pyarrow as pa

    fs, p = arrow_fs(path)
    return pa.memory_map(p, "r") if fs is None else fs.open_input_file(p)


def publish_folder(src: str | os.PathLike, dst: str | os.PathLike, last: str | None = None) -> None:
    """Make `dst` hold `src`'s files. POSIX: one folder rename (atomic; `src` is gone after).
    Object store: `dst` emptied, then every file copied server side, `last` (the folder's own
    manifest, if any) after all others, so a reader that sees it sees the whole folder."""
    src, dst = location(src), location(dst)
    if not is_remote(src) and not is_remote(dst):
        if dst.exists():
            shutil.rmtree(dst)
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dst)
        fsync_dir(dst.parent)
        return
    remove_tree(dst)
    names = sorted(tree_sizes(src), key=lambda n: (n == last, n))
    for name in names:
        copy_file(src / name, dst / name)


def _s3_key(path: Path) -> tuple[Any, str, str] | None:
    """(s3fs filesystem, bucket, key) when `path` is on S3 (or an S3-compatible server), else None."""
    fs, key = _fs_path(path)
    if not hasattr(fs, "_call_s3"):
        return None
    bucket, key, _ = fs.split_path(key)
    return fs, bucket, key


def _precondition_failed(err: BaseException) -> bool:
    """An S3 write refused by its condition (412, or 409 when conditional writes race)."""
    if isinstance(err, (FileExistsError, FileNotFoundError)):  # s3fs: If-None-Match failed / If-Match on nothing
        return True
    code = (getattr(err.__cause__, "response", None) or {}).get("Error", {}).get("Code")
    return code in ("PreconditionFailed", "ConditionalRequestConflict")


def read_tagged(path: str | os.PathLike) -> tuple[bytes, str] | None:
    """(bytes, version tag) of a small object in one read, or None if it is absent. The tag is what
    `put_if` compares: the ETag on S3, (inode, mtime, size) on POSIX (every commit is a new inode)."""
    path = location(path)
    if not is_remote(path):
        try:
            with open(path, "rb") as f:
                st = os.fstat(f.fileno())
                return f.read(), f"{st.st_ino}-{st.st_mtime_ns}-{st.st_size}"
        except FileNotFoundError:
            return None
    s3 = _s3_key(path)
    if s3 is None:  # another object store: data and tag from two calls (not atomic)
        fs, key = _fs_path(path)
        fs.invalidate_cache(key)
        try:
            info = fs.info(key)
            return fs.cat_file(key), str(info.get("etag") or info.get("ETag") or info.get("mtime") or "")
        except FileNotFoundError:
            return None
    fs, bucket, key = s3
    from fsspec.asyn import sync

    async def get():
        resp = await fs._call_s3("get_object", Bucket=bucket, Key=key)
        try:
            return await resp["Body"].read(), resp["ETag"]
        finally:
            resp["Body"].close()

    try:
        return sync(fs.loop, get)
    except FileNotFoundError:
        return None


def put_if(path: str | os.PathLike, data: bytes, match: str | None) -> str | None:
    """Write `path` whole only if it is absent (`match` None) or still the version `read_tagged`
    tagged `match`; returns the new version's tag, or None when the condition failed (someone else
    wrote first). Atomic on POSIX (an exclusive hard link of a complete temporary; a compare and
    rename under flock) and on S3 (a conditional PUT: If-None-Match: "*" / If-Match: ETag). Other
    object stores get a check then a write, which two racing writers can both pass."""
    path = location(path)
    if is_remote(path):
        s3 = _s3_key(path)
        if s3 is None:
            now = read_tagged(path)
            if (now[1] if now else None) != match:
                return None
            commit_bytes(path, data)
            return read_tagged(path)[1]
        fs, bucket, key = s3
        cond = {"IfNoneMatch": "*"} if match is None else {"IfMatch": match}
        try:
            resp = fs.call_s3("put_object", Bucket=bucket, Key=key, Body=data, **cond)
        except OSError as e:
            if _precondition_failed(e):
                return None
            raise
        finally:
            fs.invalidate_cache(f"{bucket}/{key}")
        return resp["ETag"]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_name(path)
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
        st = os.fstat(f.fileno())
    tag = f"{st.st_ino}-{st.st_mtime_ns}-{st.st_size}"
    try:
        if match is None:
            try:
                os.link(tmp, path)  # fails if `path` exists: the exclusive create
            except FileExistsError:
                return None
            return tag
        import fcntl

        fd = os.open(path.parent, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # writers of this path compare and rename one at a time
            now = read_tagged(path)
            if now is None or now[1] != match:
                return None
            os.replace(tmp, path)
            return tag
        finally:
            os.close(fd)  # releases the flock
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        fsync_dir(path.parent)


def sha256_of(path: str | os.PathLike, chunk: int = 1 << 22) -> str:
    """sha256 of a local or remote file, streamed."""
    h = hashlib.sha256()
    with open_read(path) as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()
