"""The run config: YAML validated by pydantic. Unknown keys, wrong types, missing paths, duplicate
source names and unknown kinds are reported in one line that names the key, before work starts.

Relative paths in a config file are relative to the file's folder, wherever the run starts
(`grist run other/dir/config.yaml` reads other/dir/web/...); absolute paths and URLs are taken as
they are and `~` is expanded. `output` is made absolute when the config is loaded (an `--output`
on the command line is relative to the current directory); the other paths stay as written, so
that the stage hashes do not depend on where the folder sits, and are resolved against
`Config.base_dir` by the stages that open them."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, PrivateAttr, ValidationError, field_validator, model_validator

from filters.config import FiltersConfig
from filters.dedup.config import DedupConfig
from pipelines.errors import ConfigError
from pipelines.mixture_config import MixtureConfig
from pipelines.sources.reader_config import BooksConfig, EncyclopediaConfig, Extractor
from pipelines.strict import StrictModel
from shards.config import ShardsConfig
from tokenizer.config import TokenizerConfig

SourceKind = Literal["web", "books", "encyclopedia", "code", "jsonl", "parquet"]
SourceDomain = Literal["web", "books", "encyclopedia", "code", "other"]
# A kind is a file format; a domain is what the files hold. Content rules (line cleaning, PII,
# quality, code rules) follow the domain, so a jsonl export of web pages is treated as web.
DEFAULT_DOMAIN: dict[str, str] = {"web": "web", "books": "books", "encyclopedia": "encyclopedia", "code": "code",
                                  "jsonl": "other", "parquet": "other"}


class SourceConfig(StrictModel):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="unique; used in ids, stats and shards")
    kind: SourceKind
    domain: SourceDomain | None = Field(None, description="what the source holds; null = the kind's own domain "
                                                           "(jsonl/parquet: other)")
    paths: list[str] = Field(min_length=1, description="globs; local paths or fsspec URLs (s3://, gs://, https://)")
    weight: float = Field(1.0, ge=0, description="share of tokens in the mixture (normalised over sources)")
    max_epochs: float | None = Field(None, gt=0, description="overrides mixture.max_epochs for this source")
    languages: list[str] | None = Field(None, description="allowed language codes; null = the filters' default")
    text_field: str = Field("text", description="jsonl/parquet: the column holding the text")
    id_field: str = Field("id", description="jsonl/parquet: the column holding the document id, when present")

    @model_validator(mode="after")
    def _default_domain(self) -> "SourceConfig":
        if self.domain is None:
            self.domain = DEFAULT_DOMAIN[self.kind]
        return self


class ReadConfig(StrictModel):
    """Limits applied while reading, so one bad file cannot take a worker down."""

    max_doc_bytes: int = Field(5_000_000, gt=0, description="longer texts are truncated (reason counted)")
    max_line_bytes: int = Field(1_000_000, gt=0, description="jsonl lines longer than this are dropped")
    batch_rows: int = Field(1000, gt=0, description="documents per Arrow batch")
    # grist on 198 real pages (benchmarks/bench_extraction.py): must-appear 96.3%, boilerplate removed
    # 98.8%, 0 empty articles, gold token F1 96.0; 29.5 pages/CPU-s (trafilatura 86.1/99.2/0/96.1 at 40,
    # resiliparse 84.1/83.4/5/90.6 at 537). See pipelines/sources/extract.py.
    extractor: Extractor = Field("grist", description="HTML main-text extractor for web pages: grist | trafilatura "
                                                      "(FineWeb's settings) | resiliparse (DCLM's)")
    # StarCoder-style code rules (the Stack / BigCode preprocessing).
    code_max_file_bytes: int = Field(1_000_000, gt=0)
    code_max_line_length: int = Field(1000, gt=0)
    code_max_mean_line_length: float = Field(100.0, gt=0)
    code_min_alnum_fraction: float = Field(0.25, ge=0, le=1)
    code_keep_vendored: bool = Field(False, description="keep files under vendor/, _vendor/, node_modules/, "
                                     "third_party/, ... with vendored: true in meta (dedup then keeps the "
                                     "original); false = drop them as code_vendored")
    code_permissive_only: bool = Field(False, description="keep only code whose licence (from LICENSE files or "
                                       "package metadata) is in code_permissive_licenses; others are dropped as "
                                       "code_license_not_permissive / code_license_unknown")
    code_permissive_licenses: list[str] = Field(
        default_factory=lambda: ["0BSD", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "BSL-1.0", "CC0-1.0", "ISC",
                                 "MIT", "MIT-0", "PSF-2.0", "Python-2.0", "Unlicense", "UPL-1.0", "X11", "Zlib"],
        description="SPDX ids counted as permissive (an OR expression needs one of them, an AND all)")
    books: BooksConfig = Field(default_factory=BooksConfig)
    encyclopedia: EncyclopediaConfig = Field(default_factory=EncyclopediaConfig)


class RuntimeConfig(StrictModel):
    workers: int | None = Field(None, gt=0, description="actors per stage; null = the cluster's CPUs")
    object_store_mb: int = Field(512, gt=0, description="local Ray only: object store size (spills to disk beyond)")
    dashboard: bool = Field(False, description="local Ray only: start the dashboard (binds 127.0.0.1)")
    worker_logs: bool = Field(False, description="local Ray only: print the workers' stdout/stderr here (Ray's log "
                              "monitor, ~90 MB); off, they stay in Ray's session logs (/tmp/ray/session_*/logs)")
    part_mb: float = Field(64.0, gt=0, description="read parts hold about this much text: small files "
                           "are grouped, large jsonl/parquet split (the unit of work of every stage)")


class Config(StrictModel):
    output: str = Field(description="everything the run writes goes under here")
    seed: int = 0
    sources: list[SourceConfig] = Field(min_length=1)
    read: ReadConfig = Field(default_factory=ReadConfig)
    filters: FiltersConfig = Field(default_factory=FiltersConfig)
    dedup: DedupConfig = Field(default_factory=DedupConfig)
    mixture: MixtureConfig = Field(default_factory=MixtureConfig)
    tokenizer: TokenizerConfig = Field(default_factory=TokenizerConfig)
    shards: ShardsConfig = Field(default_factory=ShardsConfig)
    runtime: RuntimeConfig = Field(default_factory=RuntimeConfig)
    _base_dir: Path | None = PrivateAttr(None)

    @property
    def base_dir(self) -> Path | None:
        """The folder relative paths are resolved against: the config file's (None: the cwd)."""
        return self._base_dir

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, sources: list[SourceConfig]) -> list[SourceConfig]:
        seen: set[str] = set()
        for s in sources:
            if s.name in seen:
                raise ValueError(f"duplicate source name {s.name!r}")
            seen.add(s.name)
        return sources

    @model_validator(mode="after")
    def _some_weight(self) -> "Config":
        if sum(s.weight for s in self.sources) <= 0:
            raise ValueError("sources: at least one source needs a weight > 0")
        return self

    def source(self, name: str) -> SourceConfig:
        for s in self.sources:
            if s.name == name:
                return s
        raise KeyError(name)

    def section_hash(self, *keys: str) -> str:
        """sha256 of the named top-level sections (plus the seed): what a stage's output depends on.
        `NAME!a,b` is a section less the fields a and b (of each item, for a list): the read stage
        hashes `sources!weight,max_epochs`, so a weight change reruns the mixture, not the read."""
        data = self.model_dump(mode="json")
        picked = {}
        for key in keys:
            name, _, drop = key.partition("!")
            value, omit = data[name], set(drop.split(",")) - {""}
            if omit:
                strip = lambda d: {k: v for k, v in d.items() if k not in omit}  # noqa: E731
                value = [strip(v) for v in value] if isinstance(value, list) else strip(value)
            picked[key] = value
        picked["seed"] = self.seed
        return hashlib.sha256(json.dumps(picked, sort_keys=True).encode()).hexdigest()


def _format_loc(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "config"


def _first_error(err: ValidationError) -> str:
    e = err.errors()[0]
    loc = _format_loc(e["loc"])
    if e["type"] == "extra_forbidden":
        return f"{loc}: unknown key"
    if e["type"] == "missing":
        return f"{loc}: required key is missing"
    value = e.get("input")
    shown = "" if isinstance(value, (dict, list)) else f" (got {value!r})"
    return f"{loc}: {e['msg']}{shown}"


# Every config key that holds a path or a list of paths (`*` = each item of a list).
PATH_FIELDS: tuple[str, ...] = ("output", "sources.*.paths", "filters.quality.model", "filters.quality.labelled",
                                "dedup.decontam.eval_sets.*.paths", "tokenizer.path")


def _map_paths(obj: Any, dotted: str, fn) -> None:
    """Apply `fn` to the path value(s) at `dotted` inside a validated config, in place."""
    head, _, rest = dotted.partition(".")
    if head == "*":
        for item in obj:
            _map_paths(item, rest, fn)
        return
    value = getattr(obj, head)
    if rest:
        _map_paths(value, rest, fn)
    elif isinstance(value, list):
        setattr(obj, head, [fn(v) for v in value])
    elif value is not None:
        setattr(obj, head, fn(value))


def parse_config(data: Any, base_dir: Path | None = None, check_paths: bool = True) -> Config:
    """Validate a config mapping. Relative paths are resolved against `base_dir` (the config
    file's folder; None: the current directory)."""
    from pipelines.sources.files import expand_paths, resolve_path

    if not isinstance(data, dict):
        raise ConfigError("config: expected a mapping of keys at the top level")
    try:
        cfg = Config.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_first_error(err)) from None
    base_dir = Path(os.path.abspath(base_dir)) if base_dir is not None else None
    cfg._base_dir = base_dir
    for key in PATH_FIELDS:
        _map_paths(cfg, key, lambda p: resolve_path(p, None))  # `~` only: the rest stays as written
    cfg.output = resolve_path(cfg.output, base_dir)
    if check_paths:
        for i, src in enumerate(cfg.sources):
            for j, pattern in enumerate(src.paths):
                try:
                    found = expand_paths([pattern], base_dir)
                except Exception as err:  # no s3fs/gcsfs, no credentials (botocore's own errors), ...
                    reason = str(err).splitlines()[0] if str(err) else type(err).__name__
                    raise ConfigError(f"sources.{i}.paths.{j}: cannot list {pattern!r}: {reason}") from None
                if not found:
                    where = f" in {base_dir}" if resolve_path(pattern, base_dir) != resolve_path(pattern, None) else ""
                    raise ConfigError(f"sources.{i}.paths.{j}: no file matches {pattern!r}{where}")
    return cfg


def load_config(path: str | Path, overrides: dict[str, Any] | None = None, check_paths: bool = True,
                base_dir: Path | None = None) -> Config:
    """Read a YAML config; `overrides` are top-level keys set from the command line (an `output`
    there is relative to the current directory). Relative paths in the file are resolved against
    `base_dir`, by default the file's folder."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{path}: config file not found")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}:{where} invalid YAML: {getattr(err, 'problem', err)}") from None
    if isinstance(data, dict) and overrides:
        from pipelines.sources.files import resolve_path

        if isinstance(overrides.get("output"), str):
            overrides = {**overrides, "output": resolve_path(overrides["output"], Path.cwd())}
        data = {**data, **overrides}
    return parse_config(data, base_dir or Path(os.path.abspath(p)).parent, check_paths)
