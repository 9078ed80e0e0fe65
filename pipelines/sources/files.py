"""Path globbing and opening, local and remote (s3://, gs://, https://) through one code path."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

import fsspec


def _is_url(path: str) -> bool:
    return "://" in path


def resolve_path(path: str, base_dir: Path | None) -> str:
    """A path from a config as the run opens it: URLs and absolute paths as they are, `~` expanded,
    a relative path joined to `base_dir` (the config file's folder)."""
    if _is_url(path):
        return path
    path = os.path.expanduser(path)
    if base_dir is None or os.path.isabs(path):
        return path
    return os.path.normpath(os.path.join(base_dir, path))


def expand_paths(patterns: list[str], base_dir: Path | None = None) -> list[str]:
    """Expand globs to a sorted, de-duplicated list of files (directories kept for `code` trees).

    Sorted so that file order, and with it every document id, does not depend on the listing order
    of the filesystem.
    """
    return sorted(list_paths(patterns, base_dir))


def list_paths(patterns: list[str], base_dir: Path | None = None) -> dict[str, dict]:
    """Like `expand_paths`, with what the listing says of each path (size, type, mtime or etag):
    one listing call per pattern, not one metadata call per file (100k files on S3 would be 100k
    round trips from the driver)."""
    out: dict[str, dict] = {}
    for pattern in patterns:
        pattern = resolve_path(pattern, base_dir)
        fs, _, _ = fsspec.core.get_fs_token_paths(pattern)
        protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
        if any(ch in pattern for ch in "*?["):
            matches = fs.glob(pattern, detail=True)
        else:
            matches = {pattern: fs.info(pattern)} if fs.exists(pattern) else {}
        for m, info in matches.items():
            m = str(m)
            if protocol not in ("file", "local") and not _is_url(m):
                m = fs.unstrip_protocol(m)
            out.setdefault(m, info)
    return out


def open_binary(path: str) -> IO[bytes]:
    """Open a local path or URL for reading raw bytes (no transparent decompression: readers
    decompress themselves so that a truncated stream is detected and counted)."""
    return fsspec.open(path, "rb").open()


def is_dir(path: str) -> bool:
    fs, _, paths = fsspec.core.get_fs_token_paths(path)
    return fs.isdir(paths[0])


def glob_root(pattern: str) -> str:
    """The tree a pattern names: its folders before the first wildcard (a literal path: itself)."""
    parts = pattern.split(os.sep)
    for i, part in enumerate(parts):
        if any(ch in part for ch in "*?["):
            return os.sep.join(parts[:i]) or os.sep
    return pattern


def boundary_drop(path: str, root: str) -> str | None:
    """The drop reason when a local input must not be opened, else None: a symlink leading out of
    `root` (`symlink_outside_tree`) or into a loop (`symlink_loop`), a FIFO, socket or device
    (`not_regular_file`: opening a FIFO blocks forever), or a file the run may not read."""
    if _is_url(path):
        return None
    import errno
    import stat
    try:
        real = os.path.realpath(path, strict=True)
    except OSError as e:
        return "symlink_loop" if e.errno == errno.ELOOP else ("permission_denied" if e.errno == errno.EACCES else None)
    top = os.path.realpath(root)
    if real != top and not real.startswith(top.rstrip(os.sep) + os.sep):
        return "symlink_outside_tree"
    mode = os.stat(real).st_mode
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        return "not_regular_file"
    if not os.access(real, os.R_OK):
        return "permission_denied"
    return None
