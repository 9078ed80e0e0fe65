"""What `grist submit` uploads: the working dir minus secrets, build outputs and its .gitignore.

Patterns are gitignore-style, as Ray's runtime_env `excludes` takes them; the listing is computed
with Ray's own matcher (the one its upload uses), so what is printed is what is sent.
"""

from __future__ import annotations

import os
from pathlib import Path

# Credentials a working dir commonly holds, and outputs that never belong in a job's upload.
SECRET_EXCLUDES = [".env", ".env.*", ".aws/", ".ssh/", "*.pem", "*.key", "id_*", ".netrc", "secrets/",
                   ".git/", ".venv/", "out/"]


def excludes(working_dir: Path) -> list[str]:
    """The default excludes plus the working dir's own .gitignore lines."""
    patterns = list(SECRET_EXCLUDES)
    gi = Path(working_dir) / ".gitignore"
    if gi.is_file():
        patterns += [ln.strip() for ln in gi.read_text(errors="replace").splitlines()
                     if ln.strip() and not ln.lstrip().startswith("#")]
    return patterns


def listing(working_dir: Path, patterns: list[str]) -> tuple[list[tuple[str, int]], list[str]]:
    """(uploaded files as (relative path, size), excluded relative paths), both sorted."""
    from ray._private.thirdparty.pathspec import PathSpec

    spec = PathSpec.from_lines("gitwildmatch", patterns)
    root = Path(working_dir)
    kept: list[tuple[str, int]] = []
    excluded: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = Path(dirpath).relative_to(root)
        for d in sorted(dirnames):
            rel = (rel_dir / d).as_posix()
            if spec.match_file(rel + "/"):
                excluded.append(rel + "/")
                dirnames.remove(d)  # an excluded folder is not walked (Ray skips it whole too)
        for f in filenames:
            rel = (rel_dir / f).as_posix()
            if spec.match_file(rel):
                excluded.append(rel)
            else:
                kept.append((rel, os.lstat(os.path.join(dirpath, f)).st_size))
    return sorted(kept), sorted(excluded)


def summary(kept: list[tuple[str, int]], excluded: list[str], largest: int = 5) -> str:
    """Lines for the terminal: file count, total size, the largest files, what was left out."""
    total = sum(s for _, s in kept)
    lines = [f"uploading {len(kept)} files, {total / 1e6:.2f} MB"]
    lines += [f"  {s / 1e6:8.2f} MB  {p}" for p, s in sorted(kept, key=lambda x: -x[1])[:largest]]
    lines.append(f"excluded {len(excluded)}: " + (", ".join(excluded[:20]) + (" ..." if len(excluded) > 20 else "")))
    return "\n".join(lines)
