"""Code trees on object storage: real repositories of the real set (requests 2.31.0 with its Apache
licence, jszip 3.10.1 with its vendor/ folder) uploaded to an S3 server (moto over HTTP, the s3fs
client a run uses) read exactly as the same trees on local disk: the same records in the same
order, the same ids (`SOURCE/REPO/PATH`), texts, drop reasons, licences and vendored flags; through
the read stage's listing (a glob over the bucket), its parts and its task as well; and archives of
them (.tar.gz, .zip), on disk or in the bucket, read as the tree they unpack to."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from data.real import realset
from pipelines.config import ReadConfig, SourceConfig
from pipelines.partition import plan_read_parts
from pipelines.read_stage import ReadPartTask
from pipelines.sources.base import Doc
from pipelines.sources.code import read_code, tree_stamp
from tests.conftest import make_config
from tests.s3server import s3_server

BUCKET = "grist-code"
REPOS = ("requests-2.31.0", "jszip-3.10.1")
SRC = SourceConfig(name="code", kind="code", paths=["x"])
CONFIGS = {"default": ReadConfig(), "keep_vendored": ReadConfig(code_keep_vendored=True),
           "permissive_only": ReadConfig(code_permissive_only=True)}


def _archive(tree: str, dest: Path) -> None:
    """`tar czf` / `zip -r` of a tree as its own folder (as GitHub and sdists ship them)."""
    import tarfile
    import zipfile

    dest.parent.mkdir(parents=True, exist_ok=True)
    files = sorted(p for p in Path(tree).rglob("*") if p.is_file())
    rel = [p.relative_to(Path(tree).parent).as_posix() for p in files]
    if dest.name.endswith(".zip"):
        with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
            for p, r in zip(files, rel):
                zf.write(p, r)
    else:
        with tarfile.open(dest, "w:gz") as tf:
            for p, r in zip(files, rel):
                tf.add(p, r)


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    """{repo: local folder}, the same trees uploaded under s3://BUCKET/repos/REPO."""
    import fsspec

    realset.ensure_built()
    local = {t["repo"]: t["path"] for t in realset.code_trees() if t["repo"] in REPOS}
    with s3_server(BUCKET):
        fs = fsspec.filesystem("s3")
        archives = tmp_path_factory.mktemp("archives")
        for repo, path in local.items():
            fs.put(path, f"{BUCKET}/repos/{repo}", recursive=True)
            for ext in (".tar.gz", ".zip"):
                _archive(path, archives / f"{repo}{ext}")
                fs.put_file(str(archives / f"{repo}{ext}"), f"{BUCKET}/archives/{repo}{ext}")
        local["archives"] = archives
        yield local


def _records(path: str, cfg: ReadConfig) -> list[tuple]:
    return [(type(r).__name__, r.id, getattr(r, "reason", None), getattr(r, "text", None), r.meta)
            for r in read_code(path, SRC, cfg)]


@pytest.mark.parametrize("cfg", CONFIGS, ids=list(CONFIGS))
def test_a_tree_on_s3_reads_like_the_same_tree_on_disk(trees, cfg):
    for repo in REPOS:
        path = trees[repo]
        local = _records(path, CONFIGS[cfg])
        remote = _records(f"s3://{BUCKET}/repos/{repo}", CONFIGS[cfg])
        assert remote == local, repo
        files = [p for p in Path(path).rglob("*") if p.is_file()]
        assert len(local) == len(files) and all(r[1].startswith(f"code/{repo}/") for r in local)
    # what the comparison covers: licences found from the tree's files, vendored folders, kept code
    req = _records(f"s3://{BUCKET}/repos/requests-2.31.0", CONFIGS["default"])
    assert {m["license"] for kind, *_x, m in req if kind == "Doc"} == {"Apache-2.0"}
    jszip = _records(f"s3://{BUCKET}/repos/jszip-3.10.1", CONFIGS[cfg])
    vendored = [r for r in jszip if r[4].get("vendored")]
    assert vendored and all((r[2] == "code_vendored") == (cfg != "keep_vendored") for r in vendored)


def test_a_single_file_on_s3_takes_its_folder_as_the_repository(trees):
    path = trees["requests-2.31.0"]
    for rel in ("setup.py", "requests/api.py"):
        local = _records(os.path.join(path, rel), ReadConfig())
        remote = _records(f"s3://{BUCKET}/repos/requests-2.31.0/{rel}", ReadConfig())
        assert remote == local and len(local) == 1 and local[0][0] == "Doc"


def test_the_read_stage_lists_and_reads_trees_on_s3_as_on_disk(trees, tmp_path):
    """A glob over the bucket: one part per tree; the parts' documents and drops equal a local run's."""
    got = {}
    for where, paths in (("local", [trees[r] for r in REPOS]), ("s3", [f"s3://{BUCKET}/repos/*"])):
        cfg = make_config(tmp_path / where, [{"name": "code", "kind": "code", "paths": paths}])
        specs = plan_read_parts(cfg, tmp_path)
        assert [Path(s["files"][0]["path"]).name for s in specs] == sorted(REPOS)
        task = ReadPartTask(cfg.sources, cfg.read, tmp_path / where / "work")
        rows = []
        for spec in specs:
            task.run(spec)
            for kind in ("kept", "dropped"):
                t = pq.read_table(tmp_path / where / "work" / kind / f"{spec['part']}.parquet")
                rows += [(kind, r["id"], r.get("text"), r.get("reason"), r["meta"]) for r in t.to_pylist()]
        got[where] = sorted(rows)
    assert got["s3"] == got["local"]
    assert sum(1 for r in got["s3"] if r[0] == "kept") > 30


def test_a_tree_stamp_changes_with_any_file_of_the_tree(trees, tmp_path):
    """What a code part's key should be (partition.py keys a folder by its own mtime / nothing on S3)."""
    import fsspec

    fs = fsspec.filesystem("s3")
    url = f"s3://{BUCKET}/repos/requests-2.31.0"
    before = tree_stamp(url)
    fs.pipe(f"{BUCKET}/repos/requests-2.31.0/requests/api.py", b"# edited deep in the tree\n")
    after = tree_stamp(url)
    assert before["stamp"] != after["stamp"] and before["size"] != after["size"]
    fs.put_file(os.path.join(trees["requests-2.31.0"], "requests", "api.py"),
                f"{BUCKET}/repos/requests-2.31.0/requests/api.py")
    assert tree_stamp(url) == before  # the same bytes again: the same ETag (content MD5), the same key

    local = tmp_path / "tree"
    (local / "a" / "b").mkdir(parents=True)
    (local / "a" / "b" / "x.py").write_text("x = 1\n")
    first = tree_stamp(str(local))
    top_mtime = local.stat().st_mtime_ns
    time.sleep(0.01)
    (local / "a" / "b" / "x.py").write_text("x = 2\n")
    assert local.stat().st_mtime_ns == top_mtime and tree_stamp(str(local))["stamp"] != first["stamp"]
    assert tree_stamp(str(local / "a" / "b" / "x.py")) is None


def test_an_archive_on_disk_or_on_s3_reads_as_the_tree_it_unpacks_to(trees):
    for repo in REPOS:
        tree = _records(trees[repo], ReadConfig())
        for ext in (".tar.gz", ".zip"):
            assert _records(str(trees["archives"] / f"{repo}{ext}"), ReadConfig()) == tree, (repo, ext)
            assert _records(f"s3://{BUCKET}/archives/{repo}{ext}", ReadConfig()) == tree, (repo, ext)


def test_a_git_working_tree_on_s3_keeps_its_commit(trees, tmp_path):
    """`.git` travels with the tree: it is not read as code, and HEAD's commit is every file's."""
    import fsspec

    from tests.sources.fixtures import git_init_commit, python_module, write_tree

    repo = write_tree(tmp_path / "gitrepo", {"src/a.py": python_module(1), "README.md": "# Title\n\nWords.\n"})
    head = git_init_commit(repo)
    fsspec.filesystem("s3").put(str(repo), f"{BUCKET}/git/gitrepo", recursive=True)
    local = _records(str(repo), ReadConfig())
    assert _records(f"s3://{BUCKET}/git/gitrepo", ReadConfig()) == local
    assert [r[1] for r in local] == ["code/gitrepo/README.md", "code/gitrepo/src/a.py"]
    assert {r[4]["commit"] for r in local} == {head}
