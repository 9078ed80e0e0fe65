"""Mixture planning and selection as pure functions."""

import numpy as np
import pytest

from pipelines.mixture import plan_mixture, select_epochs


def _plan(available, weights, caps=None, target=None, temperature=1.0):
    caps = caps or {s: 4.0 for s in weights}
    docs = {s: 100 for s in weights}
    return plan_mixture(available, docs, weights, caps, target, temperature)


def test_uncapped_plan_follows_weights_and_fills_target():
    plans, warnings = _plan({"a": 1000, "b": 1000}, {"a": 0.75, "b": 0.25}, target=1000)
    assert warnings == []
    assert plans["a"].planned_tokens == pytest.approx(750)
    assert plans["b"].planned_tokens == pytest.approx(250)
    assert plans["a"].epochs == pytest.approx(0.75)


def test_capped_source_is_reported_and_the_others_renormalised():
    plans, warnings = _plan({"a": 10_000, "b": 10_000, "c": 100}, {"a": 0.5, "b": 0.3, "c": 0.2},
                            caps={"a": 4, "b": 4, "c": 2}, target=10_000)
    assert plans["c"].capped and plans["c"].epochs == pytest.approx(2.0)
    assert plans["c"].planned_tokens == pytest.approx(200)
    assert len(warnings) == 1 and "'c'" in warnings[0] and "max_epochs=2" in warnings[0]
    assert plans["a"].planned_tokens / plans["b"].planned_tokens == pytest.approx(0.5 / 0.3)
    assert sum(p.planned_tokens for p in plans.values()) == pytest.approx(10_000)


def test_unreachable_target_says_so():
    plans, warnings = _plan({"a": 100, "b": 100}, {"a": 1, "b": 1}, caps={"a": 2, "b": 3}, target=10_000)
    assert all(p.capped for p in plans.values())
    assert any("not reachable" in w for w in warnings)
    assert sum(p.planned_tokens for p in plans.values()) == pytest.approx(500)


def test_temperature_flattens_shares_and_null_target_takes_everything_once():
    plans, _ = _plan({"a": 10**6, "b": 10**6}, {"a": 0.9, "b": 0.1}, target=1000, temperature=1e6)
    assert plans["a"].planned_tokens == pytest.approx(500, rel=1e-3)
    plans, _ = _plan({"a": 123, "b": 456}, {"a": 0.9, "b": 0.0})
    assert (plans["a"].planned_tokens, plans["a"].epochs) == (123, 1.0)
    assert plans["b"].planned_tokens == 0


def test_selection_is_pure_exact_and_capped_by_epochs():
    rng = np.random.default_rng(0)
    ids = sorted(f"doc-{i}" for i in range(500))
    tokens = rng.integers(50, 150, size=len(ids))
    want = 2.4 * tokens.sum()
    sel = select_epochs(ids, tokens, want, seed=7)
    assert [e for _, e in sel] == [0, 1, 2]
    assert all(len(rows) == len(ids) for rows, _ in sel[:2])
    got = sum(int(tokens[rows].sum()) for rows, _ in sel)
    assert abs(got - want) <= tokens.max() / 2  # within half a document of the budget
    again = select_epochs(ids, tokens, want, seed=7)
    assert all(np.array_equal(a, b) for (a, _), (b, _) in zip(sel, again))
    other = select_epochs(ids, tokens, want, seed=8)
    assert not np.array_equal(sel[2][0], other[2][0])  # the partial epoch depends on the seed
    counts = np.bincount(np.concatenate([rows for rows, _ in sel]), minlength=len(ids))
    assert counts.max() == 3 and counts.min() == 2
