"""The report plots are inline SVG (shards/svg.py): they carry the plotted values, escape text, give the
same bytes for the same input, and keep matplotlib off the driver (issue 12, item 5)."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np

from shards import svg
from shards.html import plot_lengths, plot_quality, plot_removals, plot_sources

ROOT = Path(__file__).resolve().parents[2]
SOURCES = {
    "web": {"docs_in": 200, "docs_out": 50, "dropped": {"read:non_html": 10, "filters:gopher": 100, "dedup:exact": 40}},
    "<b>&co": {"docs_in": 8, "docs_out": 8, "dropped": {}},
}


def _tips(page: str) -> list[str]:
    return re.findall(r'<rect class="bar"[^>]*><title>([^<]*)</title></rect>', page)


def test_sources_plot_one_row_a_source_with_its_shares():
    page = plot_sources(SOURCES)
    assert page.startswith("<svg") and page.endswith("</svg>") and "<script" not in page
    assert page.count("% kept</text>") == len(SOURCES)
    assert ">25% kept<" in page and ">100% kept<" in page
    assert "&lt;b&gt;&amp;co" in page and "<b>" not in page  # a source name is text, not markup
    assert _tips(page) == ["web: kept: 25%", "web: removed by read: 5%", "web: removed by filters: 50%",
                           "web: removed by dedup: 20%", "&lt;b&gt;&amp;co: kept: 100%"]
    for legend in ("kept", "removed by read", "removed by filters", "removed by dedup", "% of the source&#x27;s records"):
        assert f">{legend}</text>" in page
    assert 'aria-label="Per source: kept and removed by stage"' in page
    assert plot_sources(SOURCES) == page  # deterministic


def test_removals_plot_largest_first_with_values():
    stages = [{"name": "read", "dropped": {"non_html": 10}}, {"name": "filters", "dropped": {"gopher": 100, "none": 0}}]
    page = plot_removals(stages)
    assert _tips(page) == ["filters: gopher: 100", "read: non_html: 10"]
    assert ">Removals by stage and reason</text>" in page and ">documents removed</text>" in page


def test_histograms_count_every_document():
    rng = np.random.default_rng(0)
    lengths = {"web": rng.integers(1, 5000, 300), "code": rng.integers(1, 900, 40)}
    page = plot_lengths(lengths)
    for s, v in lengths.items():
        assert f">{s} (n={len(v):,})</text>" in page  # legend
        assert sum(int(t.rsplit(": ", 1)[1].replace(",", "")) for t in _tips(page) if t.startswith(f"{s} ")) == len(v)
    scores = {"web": rng.random(100)}
    q = plot_quality(scores)
    assert ">quality_score</text>" in q and ">Quality score of kept documents</text>" in q
    assert sum(int(t.rsplit(": ", 1)[1]) for t in _tips(q)) == 100
    assert plot_quality(scores) == q


def test_nice_ticks():
    assert svg.nice_ticks(219) == [0, 50, 100, 150, 200, 250]
    assert svg.nice_ticks(100) == [0, 20, 40, 60, 80, 100]
    assert svg.nice_ticks(1.0, 8) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert svg.nice_ticks(0) == [0.0, 1.0]


def test_report_module_does_not_import_matplotlib():
    code = "import sys; import shards.html; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
