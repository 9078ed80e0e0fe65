"""`code` sources: a source tree or git working tree (a directory); a glob may also match files.

Every regular file outside `.git/` is one record, walked in sorted order (a folder's files, then
its subfolders). Drops, each with its own reason, in this order: files under vendored / third-party
folders (`code_vendored`, unless `read.code_keep_vendored`: then kept with `vendored: true`),
licence files (`code_license_file`: their licence is in every file's meta instead; the texts
are the same few hundred boilerplate documents in every repository), lock files
(`code_lock_file`), protobuf / gRPC outputs by name and files whose leading comments carry a
generator's marker (`code_generated`), minified files by name or line lengths (`code_minified`),
unknown languages, and the StarCoder-style rules of ReadConfig; with `read.code_permissive_only`,
files whose licence is unknown or not in `read.code_permissive_licenses`
(`code_license_unknown`, `code_license_not_permissive`).

A file's licence is its folder's: the nearest folder up to the tree's root with licence files
or package metadata that name one (see licenses.py; a vendored package's own LICENSE counts for
its files, pip's `six.LICENSE` for `six.py` only). Docs have the natural id `SOURCE/REPO/RELPATH`
and meta repo, path, language, license (SPDX expression or null), license_source, vendored,
commit (git HEAD or null), size, lines, max_line_length, avg_line_length, alphanum_fraction (The
Stack's names).

A tree may sit on local disk or under an object store prefix (`s3://bucket/repos/NAME`, through
`pipelines.storage`): one recursive listing gives its files and sizes, the by-name rules and the
licence folders are decided from that listing, and the files to read are fetched in concurrent
batches (`READ_BATCH_FILES` / `READ_BATCH_BYTES`). The records, ids, licences and vendored flags
are the same as for the same tree on disk (an object store has no symlinks or FIFOs to refuse).
A repository archive (.tar.gz, .tgz, .tar.bz2, .tar.xz, .tar, .zip), local or on an object store
(downloaded first), is unpacked into a temporary folder and read as the tree it unpacks to: an
archive holding one folder (as GitHub and sdists ship them) gives that folder's ids; otherwise the
archive's name without its suffix is the repository. Nothing is unpacked outside that folder; a
damaged or truncated archive keeps the files before the damage and ends with a `corrupt_archive`
drop. `tree_stamp` is the key a tree's read part should carry: a hash of every file's size and stamp.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import re
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator

from pipelines import storage

from pipelines.config import ReadConfig, SourceConfig
from pipelines.sources import licenses
from pipelines.sources.base import Doc, Drop, Record
from pipelines.sources.vendored import (VENDORED_DIRS, generated_by_name, generated_marker, is_lock_file,
                                        minified_by_name, vendored_part)

# Extension -> language (lower-case extension; the most common ~30 languages of The Stack).
LANGUAGES: dict[str, str] = {
    ".py": "Python", ".pyi": "Python", ".pyx": "Cython",
    ".js": "JavaScript", ".mjs": "JavaScript", ".cjs": "JavaScript", ".jsx": "JavaScript",
    ".ts": "TypeScript", ".tsx": "TypeScript",
    ".java": "Java", ".kt": "Kotlin", ".kts": "Kotlin", ".scala": "Scala", ".groovy": "Groovy",
    ".c": "C", ".h": "C", ".cc": "C++", ".cpp": "C++", ".cxx": "C++", ".hpp": "C++", ".hh": "C++", ".hxx": "C++",
    ".cs": "C#", ".fs": "F#", ".go": "Go", ".rs": "Rust", ".swift": "Swift", ".m": "Objective-C", ".mm": "Objective-C",
    ".rb": "Ruby", ".php": "PHP", ".pl": "Perl", ".pm": "Perl", ".lua": "Lua", ".r": "R", ".jl": "Julia",
    ".hs": "Haskell", ".ml": "OCaml", ".mli": "OCaml", ".ex": "Elixir", ".exs": "Elixir", ".erl": "Erlang",
    ".clj": "Clojure", ".dart": "Dart", ".zig": "Zig", ".nim": "Nim", ".f90": "Fortran", ".f": "Fortran",
    ".sh": "Shell", ".bash": "Shell", ".zsh": "Shell", ".ps1": "PowerShell",
    ".sql": "SQL", ".html": "HTML", ".htm": "HTML", ".css": "CSS", ".scss": "SCSS", ".vue": "Vue",
    ".md": "Markdown", ".markdown": "Markdown", ".rst": "reStructuredText", ".tex": "TeX",
    ".json": "JSON", ".yaml": "YAML", ".yml": "YAML", ".toml": "TOML", ".xml": "XML", ".proto": "Protocol Buffer",
    ".cmake": "CMake",
}
FILENAMES: dict[str, str] = {"Makefile": "Makefile", "makefile": "Makefile", "GNUmakefile": "Makefile",
                             "Dockerfile": "Dockerfile", "CMakeLists.txt": "CMake"}
def language_of(name: str) -> str | None:
    if name in FILENAMES:
        return FILENAMES[name]
    return LANGUAGES.get(os.path.splitext(name)[1].lower())


def _commit_of(head: str | None, git_dirs: list[Callable[[str], str | None]]) -> str | None:
    """HEAD's commit: HEAD itself when detached, else its ref, loose or in packed-refs, from the
    first git dir that has it (`git_dirs`: readers of a file inside each git dir, None if absent)."""
    if head is None:
        return None
    head = head.strip()
    if not head.startswith("ref:"):
        return head or None
    ref = head[4:].strip()
    for read in git_dirs:
        loose = read(ref)
        if loose is not None:
            return loose.strip()
        for line in (read("packed-refs") or "").splitlines():
            if line.endswith(" " + ref):
                return line.split(" ", 1)[0]
    return None  # an unborn branch: no commit yet


def _text_or_none(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def git_head(repo: Path) -> str | None:
    """The HEAD commit of a git working tree, read from .git itself (no git binary needed)."""
    git = repo / ".git"
    try:
        if git.is_file():  # worktree or submodule: "gitdir: PATH"
            git = (repo / git.read_text().split(":", 1)[1].strip()).resolve()
    except (OSError, IndexError):
        return None
    common = git
    if (git / "commondir").is_file():  # a linked worktree keeps refs in the main .git
        common = (git / (git / "commondir").read_text().strip()).resolve()
    return _commit_of(_text_or_none(git / "HEAD"),
                      [lambda r, base=base: _text_or_none(base / r) for base in (git, common)])


_ASCII_ALNUM = bytes(c for c in range(128) if chr(c).isalnum())
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_TEXT_LANGUAGES = {None, "Markdown", "reStructuredText"}  # LICENSE.md is a licence file, license.py is code
_LICENSE_READ_BYTES = 1 << 20


def _is_license_file(name: str, parts: tuple[str, ...]) -> tuple[bool, str | None]:
    """(licence file, module stem): LICENSE*, COPYING*, NOTICE, six.LICENSE, REUSE's LICENSES/*."""
    if language_of(name) not in _TEXT_LANGUAGES:
        return False, None
    if parts and parts[-1] in ("LICENSES", "licenses"):
        return True, "\0"  # a REUSE licence text: for files that name it, not for the folder
    return licenses.license_file(name)


class _LocalTree:
    """A repository folder on local disk, walked with os.walk."""

    def __init__(self, root: Path):
        self.root = root
        self.name = root.name

    def walk(self) -> Iterator[tuple[str, list[str]]]:
        """(folder relative to the root, "" for the root; its file names, sorted), a folder before its
        subfolders, subfolders in sorted order, `.git` skipped."""
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = sorted(d for d in dirnames if d != ".git")
            rel = Path(dirpath).relative_to(self.root).as_posix()
            yield ("" if rel == "." else rel), sorted(filenames)

    def special(self, rel: str) -> bool:
        """A symlink, FIFO, socket or vanished file: never opened (read_code names the drop)."""
        p = self.root / rel
        return p.is_symlink() or not p.is_file()

    def refused(self, rel: str) -> str | None:
        p = self.root / rel
        if not self.special(rel):
            return None
        from pipelines.sources.files import boundary_drop

        refused = boundary_drop(str(p), str(self.root))
        return refused or ("symlink_inside_tree" if p.is_symlink() else None)  # a link is read where it sits

    def is_file(self, rel: str) -> bool:
        return (self.root / rel).is_file()

    def size(self, rel: str) -> int:
        return (self.root / rel).stat().st_size

    def read_small(self, rels: list[str]) -> list[bytes]:
        """The first MiB of each file (licence texts, package metadata); b"" when unreadable."""
        out = []
        for rel in rels:
            p = self.root / rel
            try:
                if p.is_symlink():  # a link may point out of the tree
                    out.append(b"")
                    continue
                with open(p, "rb") as f:
                    out.append(f.read(_LICENSE_READ_BYTES))
            except OSError:
                out.append(b"")
        return out

    def read(self, rels: list[str]) -> list[bytes | OSError]:
        return storage.read_many([self.root / r for r in rels])

    def commit(self) -> str | None:
        return git_head(self.root)


class _StoredTree:
    """A repository under an object store prefix (s3://bucket/repos/NAME): one recursive listing
    gives every file and its size, files are read in concurrent batches; no symlinks exist there."""

    def __init__(self, url: str, listing: dict[str, int] | None = None):
        self.root = storage.location(url.rstrip("/"))
        self.name = self.root.name
        self.sizes = listing if listing is not None else storage.tree_sizes(self.root)

    def walk(self) -> Iterator[tuple[str, list[str]]]:
        files: dict[str, list[str]] = {}
        subdirs: dict[str, set[str]] = {}
        for rel in self.sizes:
            folder, name = posixpath.split(rel)
            if ".git" in folder.split("/"):
                continue
            files.setdefault(folder, []).append(name)
            while folder:
                parent, base = posixpath.split(folder)
                subdirs.setdefault(parent, set()).add(base)
                folder = parent

        def visit(folder: str) -> Iterator[tuple[str, list[str]]]:
            yield folder, sorted(files.get(folder, ()))
            for d in sorted(subdirs.get(folder, ())):
                yield from visit(f"{folder}/{d}" if folder else d)

        yield from visit("")

    def special(self, rel: str) -> bool:
        return False

    def refused(self, rel: str) -> str | None:
        return None

    def is_file(self, rel: str) -> bool:
        return rel in self.sizes

    def size(self, rel: str) -> int:
        if rel not in self.sizes:
            raise FileNotFoundError(f"{self.root}/{rel}")
        return self.sizes[rel]

    def read_small(self, rels: list[str]) -> list[bytes]:
        got = iter(self.read([r for r in rels if r in self.sizes]))
        out = []
        for rel in rels:
            raw = next(got) if rel in self.sizes else b""
            out.append(b"" if isinstance(raw, OSError) else raw[:_LICENSE_READ_BYTES])
        return out

    def read(self, rels: list[str]) -> list[bytes | OSError]:
        return storage.read_many([self.root / r for r in rels])

    def commit(self) -> str | None:
        def text(rel: str) -> str | None:
            return self.read_small([rel])[0].decode("utf-8", "replace") if rel in self.sizes else None

        return _commit_of(text(".git/HEAD"), [lambda r: text(f".git/{r}")])


Tree = _LocalTree | _StoredTree


ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar", ".zip")


def archive_stem(path: str) -> str | None:
    """The name of a repository archive without its suffix, or None if `path` is not one."""
    name = path.rstrip("/").rsplit("/", 1)[-1]
    for suffix in ARCHIVE_SUFFIXES:
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return None


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _unpack(archive: Path, box: Path) -> str | None:
    """Unpack a repository archive into `box`; returns None, or "corrupt_archive" when it ends in a
    damaged or truncated member (what came before it is kept; the member being written is removed).
    Nothing is written outside `box`: tar members go through tarfile's "data" filter (absolute
    names made relative, `..` out of the box and devices refused), symlinks are made last, each only
    where its folder is inside the box, so no member is ever written through one; zip names are
    sanitised by zipfile (a zip's symlinks stay small files: zipfile makes no links)."""
    import tarfile
    import zipfile

    box.mkdir(parents=True)
    current: str | None = None
    try:
        if archive.name.lower().endswith(".zip"):
            with zipfile.ZipFile(archive) as zf:
                for info in zf.infolist():
                    current = info.filename
                    zf.extract(info, box)
                    current = None
            return None
        links = []
        with tarfile.open(archive) as tar:
            for member in tar:
                current = member.name
                if member.issym():
                    links.append(member)
                    continue
                try:
                    tar.extract(member, box, filter="data")
                except tarfile.FilterError:  # an unsafe path or a device: never written
                    pass
                current = None
        top = os.path.realpath(box)
        for member in links:
            dest = os.path.join(box, member.name)
            if not _inside(os.path.realpath(os.path.dirname(dest)), top) or os.path.isabs(member.name):
                continue
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            try:
                os.symlink(member.linkname, dest)  # refused at read time if it leads out (symlink_outside_tree)
            except OSError:
                pass
        return None
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError, ValueError):
        if current is not None:
            part = os.path.join(box, current)
            if _inside(os.path.realpath(part), os.path.realpath(box)) and os.path.isfile(part):
                os.unlink(part)  # half written
        return "corrupt_archive"


def open_tree(path: str, stack: contextlib.ExitStack) -> tuple[Tree, list[str] | None, str | None]:
    """(the repository, the files to read: None for all of it, a drop reason for the whole input
    or None) of a code source path: a folder, an archive of one (.tar.gz, .zip, ...: unpacked into
    a temporary folder that `stack` removes; one that holds a single folder is that folder, so its
    ids are those of the unpacked tree), or a file whose folder plays the repository; a local path
    or an object store URL (an archive there is downloaded first)."""
    stem = archive_stem(path)
    if stem is not None and (storage.is_remote(path) or Path(path).is_file()):
        local = stack.enter_context(storage.local_copy(path))
        box = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="grist-code-"))) / stem
        damage = _unpack(Path(local), box)
        entries = os.listdir(box)
        only = box / entries[0] if len(entries) == 1 else None
        root = only if only is not None and only.is_dir() and not only.is_symlink() else box
        return _LocalTree(root), None, damage
    if storage.is_remote(path):
        loc = storage.location(path.rstrip("/"))
        listing = storage.tree_sizes(loc)
        if listing:
            return _StoredTree(str(loc), listing), None, None
        parent = loc.parent  # a single object: its folder's files (one level) for the licence
        return _StoredTree(str(parent), storage.list_sizes(parent)), [loc.name], None
    root = Path(path)
    if root.is_dir():
        return _LocalTree(root), None, None
    return _LocalTree(root.parent), [root.name], None


class _Licences:
    """The licence of every folder of one tree, filled in walk order (a folder before its children).
    Folders are tree-relative posix paths, "" for the root."""

    def __init__(self, tree: Tree):
        self.tree = tree
        self.folders: dict[str, tuple[str | None, str | None]] = {}
        self.modules: dict[str, dict[str, tuple[str | None, str]]] = {}

    def add(self, rel: str, filenames: list[str]) -> None:
        texts, metadata, modules = [], [], {}
        parts = tuple(rel.split("/")) if rel else ()
        wanted: list[tuple[str, str, str | None]] = []  # (what, name, module stem): read in one batch
        for name in filenames:
            is_lic, stem = _is_license_file(name, parts)
            if is_lic and stem is None:
                wanted.append(("text", name, None))
            elif is_lic and stem != "\0":
                wanted.append(("module", name, stem))
            elif name in licenses.METADATA_FILES:
                wanted.append(("metadata", name, None))
        if rel == "" and self.tree.is_file("debian/copyright"):
            wanted.append(("metadata", "debian/copyright", None))  # Debian's DEP-5 file
        contents = self.tree.read_small([_join(rel, name) for _what, name, _stem in wanted])
        for (what, name, stem), raw in zip(wanted, contents):
            if what == "text":
                texts.append((name, raw))
            elif what == "module":
                ids = licenses.detect_text(raw.decode("utf-8", "replace"))
                modules[stem] = (" AND ".join(ids[:1]) or None, _join(rel, name))
            else:
                metadata.append((name, raw))
        lic, source, evidence = licenses.resolve(texts, metadata)
        # a vendored package (node_modules/X, _vendor/X) has its own licence or an unknown one, never the host's
        parent = posixpath.dirname(rel)
        package_root = rel != "" and posixpath.basename(parent).lower() in VENDORED_DIRS
        if lic is not None or evidence or rel == "" or package_root:
            sources = ",".join(_join(rel, n) for n in source.split(",")) if source else None
            self.folders[rel] = (lic, sources)
        else:
            self.folders[rel] = self.folders.get(parent, (None, None))
        self.modules[rel] = modules

    def of(self, rel: str) -> tuple[str | None, str | None]:
        """(licence, the file(s) it comes from) of a file."""
        folder, name = posixpath.split(rel)
        mod = self.modules.get(folder, {}).get(name.split(".")[0])
        return mod if mod else self.folders.get(folder, (None, None))


def _join(rel: str, name: str) -> str:
    return name if rel in ("", ".") else f"{rel}/{name}"


def _walk(tree: Tree, cfg: ReadConfig) -> Iterator[tuple[str, str | None, tuple[str | None, str | None]]]:
    """(file relative to the root, vendored folder name or None, (licence, source)) for every regular
    file outside .git, sorted."""
    lic = _Licences(tree)
    for rel, filenames in tree.walk():
        vendored = vendored_part(tuple(rel.split("/")) if rel else ())
        if vendored is None or cfg.code_keep_vendored:  # files dropped as vendored need no licence
            lic.add(rel, filenames)
        for name in filenames:
            f = _join(rel, name)
            if tree.special(f):  # read_code names the drop; nothing here opens it
                yield f, vendored, (None, None)
                continue
            yield f, vendored, lic.of(f)


def stats(raw: bytes, text: str) -> dict[str, Any]:
    """The Stack's per-file statistics."""
    lines = text.splitlines() or [""]
    lengths = list(map(len, lines))
    # ASCII letters and digits counted by bytes.translate (in C, ~50x faster than str.isalnum per
    # character); only the non-ASCII characters go through str.isalnum
    alnum = len(raw) - len(raw.translate(None, _ASCII_ALNUM))
    if not raw.isascii():
        alnum += sum(map(str.isalnum, _NON_ASCII.findall(text)))
    return {"size": len(raw), "lines": len(lines), "max_line_length": max(lengths),
            "avg_line_length": round(sum(lengths) / len(lines), 2),
            "alphanum_fraction": round(alnum / len(text), 4) if text else 0.0}


def check_code(raw: bytes, cfg: ReadConfig) -> tuple[str | None, str | None, dict[str, Any]]:
    """(text, None, stats) if the file passes the StarCoder-style rules, else (None, reason, stats)."""
    if b"\x00" in raw:
        return None, "binary_file", {"size": len(raw)}
    from pipelines.sources.books import decode_text

    text, encoding = decode_text(raw, cut=False)  # no NULs: text in some encoding (latin-1 sources exist)
    st = stats(raw, text)
    if encoding != "utf-8":
        st["encoding"] = encoding
    if generated_marker(text):
        return None, "code_generated", st
    if st["max_line_length"] > cfg.code_max_line_length:
        return None, "code_long_lines", st
    if st["avg_line_length"] > cfg.code_max_mean_line_length:
        return None, "code_minified", st
    if st["alphanum_fraction"] < cfg.code_min_alnum_fraction:
        return None, "code_low_alnum", st
    return text, None, st


def _by_name(name: str, rel_parts: tuple[str, ...], vendored: str | None, lic: str | None,
             cfg: ReadConfig) -> str | None:
    """The drop reason that the path alone decides, or None."""
    if vendored is not None and not cfg.code_keep_vendored:
        return "code_vendored"
    if _is_license_file(name, rel_parts[:-1])[0]:
        return "code_license_file"
    if is_lock_file(name):
        return "code_lock_file"
    if generated_by_name(name):
        return "code_generated"
    if minified_by_name(name):
        return "code_minified"
    if language_of(name) is None:
        return "unknown_language"
    if cfg.code_permissive_only:
        if lic is None:
            return "code_license_unknown"
        if not licenses.is_permissive(lic, set(cfg.code_permissive_licenses)):
            return "code_license_not_permissive"
    return None


# Files are read in batches of at most this many files / bytes: on an object store one batch is one
# round of concurrent GETs (a file at a time would be a round trip each).
READ_BATCH_FILES = 256
READ_BATCH_BYTES = 32 << 20


def _decide(tree: Tree, rel: str, vendored: str | None, lic: str | None,
            cfg: ReadConfig) -> tuple[str | None, dict[str, Any], int]:
    """(drop reason, stats, bytes to read: 0 when the file needs no reading) from its path and
    size alone."""
    reason = _by_name(posixpath.basename(rel), tuple(rel.split("/")), vendored, lic, cfg)
    if reason is not None:
        return reason, {}, 0
    try:
        size = tree.size(rel)
    except OSError:
        return "read_error", {}, 0
    if size > cfg.code_max_file_bytes:  # before reading: a 100 MB file is never loaded
        return "code_too_large", {"size": size}, 0
    if size == 0:
        return "empty_file", {"size": 0}, 0
    return None, {}, size


def read_code(path: str, src: SourceConfig, cfg: ReadConfig) -> Iterator[Record]:
    with contextlib.ExitStack() as stack:  # an unpacked archive lives as long as its records are read
        yield from _read_tree(path, src, cfg, stack)


def _read_tree(path: str, src: SourceConfig, cfg: ReadConfig, stack: contextlib.ExitStack) -> Iterator[Record]:
    tree, only, damage = open_tree(path, stack)
    if only is None:
        files = _walk(tree, cfg)
    else:  # a glob matched a single file: its directory plays the repository
        lic = _Licences(tree)
        lic.add("", tree_names(tree))
        files = iter([(name, None, lic.of(name)) for name in only])
    commit = tree.commit()
    any_file = False
    batch: list[tuple[str, dict[str, Any], str | None, dict[str, Any], bool]] = []
    batch_bytes = 0

    def flush() -> Iterator[Record]:
        wanted = [rel for rel, _m, _r, _s, read in batch if read]
        contents = iter(tree.read(wanted))
        for rel, meta, reason, st, read in batch:
            rid = f"{src.name}/{tree.name}/{rel}"
            if meta is None:  # refused before anything was decided
                yield Drop(reason, id=rid, meta={"repo": tree.name, "path": rel})
                continue
            text = None
            if read:
                raw = next(contents)
                if isinstance(raw, OSError):
                    reason, st = "read_error", {}
                else:
                    text, reason, st = check_code(raw, cfg)
            meta = {**meta, **st}
            yield Drop(reason, id=rid, meta=meta) if reason is not None else Doc(text=text, id=rid, meta=meta)
        batch.clear()

    for rel, vendored, (lic, lic_source) in files:
        any_file = True
        refused = tree.refused(rel)
        if refused:
            batch.append((rel, None, refused, {}, False))
        else:
            reason, st, nbytes = _decide(tree, rel, vendored, lic, cfg)
            meta = {"repo": tree.name, "path": rel, "language": language_of(posixpath.basename(rel)), "license": lic,
                    "license_source": lic_source, "vendored": vendored is not None, "commit": commit}
            batch.append((rel, meta, reason, st, nbytes > 0))
            batch_bytes += nbytes
        if len(batch) >= READ_BATCH_FILES or batch_bytes >= READ_BATCH_BYTES:
            yield from flush()
            batch_bytes = 0
    yield from flush()
    if damage is not None:  # the members after the damage are lost: one drop says so
        yield Drop(damage, meta={"repo": tree.name})
    elif not any_file:
        yield Drop("empty_repo")


def tree_names(tree: Tree) -> list[str]:
    """The names of the files in a tree's root folder."""
    if isinstance(tree, _LocalTree):
        return sorted(os.listdir(tree.root))
    return sorted(n for n in tree.sizes if "/" not in n)


def tree_stamp(path: str) -> dict[str, Any] | None:
    """{"size", "stamp"} of a code tree for the read stage's part (pipelines/partition.py): the
    tree's total bytes and a hash of every file's (path, size, mtime or ETag), `.git` included (a
    new commit is a new `commit` in every file's meta), from one listing (one recursive listing on
    an object store). A folder's own mtime changes only when its direct entries do, so an edit deep
    in a tree would leave a part keyed by it stale. None when `path` is not a folder."""
    import hashlib
    import json

    listing = storage.tree_listing(path)
    if not listing:
        return None
    files = sorted((rel, info["size"], info["stamp"]) for rel, info in listing.items())
    return {"size": sum(f[1] for f in files),
            "stamp": hashlib.sha256(json.dumps(files).encode()).hexdigest()[:16]}
