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
Stack's names). Local paths only.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Iterator

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


def git_head(repo: Path) -> str | None:
    """The HEAD commit of a git working tree, read from .git itself (no git binary needed)."""
    git = repo / ".git"
    try:
        if git.is_file():  # worktree or submodule: "gitdir: PATH"
            git = (repo / git.read_text().split(":", 1)[1].strip()).resolve()
        head = (git / "HEAD").read_text().strip()
    except (OSError, IndexError):
        return None
    if not head.startswith("ref:"):
        return head or None
    ref = head[4:].strip()
    common = git
    if (git / "commondir").is_file():  # a linked worktree keeps refs in the main .git
        common = (git / (git / "commondir").read_text().strip()).resolve()
    for base in (git, common):
        try:
            return (base / ref).read_text().strip()
        except OSError:
            pass
        try:
            for line in (base / "packed-refs").read_text().splitlines():
                if line.endswith(" " + ref):
                    return line.split(" ", 1)[0]
        except OSError:
            pass
    return None  # an unborn branch: no commit yet



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


def _read_small(p: Path) -> bytes:
    try:
        if p.is_symlink():  # a link may point out of the tree
            return b""
        with open(p, "rb") as f:
            return f.read(_LICENSE_READ_BYTES)
    except OSError:
        return b""


class _Licences:
    """The licence of every folder of one tree, filled in walk order (a folder before its children)."""

    def __init__(self, root: Path):
        self.root = root
        self.folders: dict[Path, tuple[str | None, str | None]] = {}
        self.modules: dict[Path, dict[str, tuple[str | None, str]]] = {}

    def add(self, folder: Path, rel: str, filenames: list[str]) -> None:
        texts, metadata, modules = [], [], {}
        parts = Path(rel).parts
        for name in filenames:
            is_lic, stem = _is_license_file(name, parts)
            if is_lic and stem is None:
                texts.append((name, _read_small(folder / name)))
            elif is_lic and stem != "\0":
                ids = licenses.detect_text(_read_small(folder / name).decode("utf-8", "replace"))
                modules[stem] = (" AND ".join(ids[:1]) or None, _join(rel, name))
            elif name in licenses.METADATA_FILES:
                metadata.append((name, _read_small(folder / name)))
        if folder == self.root and (self.root / "debian" / "copyright").is_file():
            metadata.append(("debian/copyright", _read_small(self.root / "debian" / "copyright")))  # Debian's DEP-5 file
        lic, source, evidence = licenses.resolve(texts, metadata)
        # a vendored package (node_modules/X, _vendor/X) has its own licence or an unknown one, never the host's
        package_root = folder.parent.name.lower() in VENDORED_DIRS and folder != self.root
        if lic is not None or evidence or folder == self.root or package_root:
            sources = ",".join(_join(rel, n) for n in source.split(",")) if source else None
            self.folders[folder] = (lic, sources)
        else:
            self.folders[folder] = self.folders.get(folder.parent, (None, None))
        self.modules[folder] = modules

    def of(self, path: Path) -> tuple[str | None, str | None]:
        """(licence, the file(s) it comes from) of a file."""
        mod = self.modules.get(path.parent, {}).get(path.name.split(".")[0])
        return mod if mod else self.folders.get(path.parent, (None, None))


def _join(rel: str, name: str) -> str:
    return name if rel in ("", ".") else f"{rel}/{name}"


def _walk(root: Path, cfg: ReadConfig) -> Iterator[tuple[Path, str | None, tuple[str | None, str | None]]]:
    """(file, vendored folder name or None, (licence, source)) for every regular file outside .git, sorted."""
    lic = _Licences(root)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        folder = Path(dirpath)
        rel = folder.relative_to(root).as_posix()
        vendored = vendored_part(Path(rel).parts)
        filenames.sort()
        if vendored is None or cfg.code_keep_vendored:  # files dropped as vendored need no licence
            lic.add(folder, rel, filenames)
        for name in filenames:
            p = folder / name
            if p.is_symlink() or not p.is_file():  # read_code names the drop; nothing here opens it
                yield p, vendored, (None, None)
                continue
            yield p, vendored, lic.of(p)


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


def _by_name(path: Path, rel_parts: tuple[str, ...], vendored: str | None, lic: str | None,
             cfg: ReadConfig) -> str | None:
    """The drop reason that the path alone decides, or None."""
    name = path.name
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


def _file(path: Path, rel: str, vendored: str | None, lic: str | None,
          cfg: ReadConfig) -> tuple[str | None, str | None, dict[str, Any]]:
    """(text, drop reason, stats)."""
    reason = _by_name(path, Path(rel).parts, vendored, lic, cfg)
    if reason is not None:
        return None, reason, {}
    try:
        size = path.stat().st_size
        if size > cfg.code_max_file_bytes:  # before reading: a 100 MB file is never loaded
            return None, "code_too_large", {"size": size}
        if size == 0:
            return None, "empty_file", {"size": 0}
        raw = path.read_bytes()
    except OSError:
        return None, "read_error", {}
    return check_code(raw, cfg)


def read_code(path: str, src: SourceConfig, cfg: ReadConfig) -> Iterator[Record]:
    from pipelines.sources.files import boundary_drop

    root = Path(path)
    if root.is_dir():
        repo, files = root, _walk(root, cfg)
    else:  # a glob matched a single file: its directory plays the repository
        repo = root.parent
        lic = _Licences(repo)
        lic.add(repo, "", sorted(os.listdir(repo)))
        files = iter([(root, None, lic.of(root))])
    commit = git_head(repo)
    any_file = False
    for p, vendored, (lic, lic_source) in files:
        any_file = True
        rel = p.relative_to(repo).as_posix()
        rid = f"{src.name}/{repo.name}/{rel}"
        refused = boundary_drop(str(p), str(repo)) if p.is_symlink() or not p.is_file() else None
        if refused or p.is_symlink():  # a link inside the tree is read where it sits, not twice
            yield Drop(refused or "symlink_inside_tree", id=rid, meta={"repo": repo.name, "path": rel})
            continue
        text, reason, st = _file(p, rel, vendored, lic, cfg)
        meta = {"repo": repo.name, "path": rel, "language": language_of(p.name), "license": lic,
                "license_source": lic_source, "vendored": vendored is not None, "commit": commit, **st}
        if reason is not None:
            yield Drop(reason, id=rid, meta=meta)
        else:
            yield Doc(text=text, id=rid, meta=meta)
    if not any_file:
        yield Drop("empty_repo")
