"""Small-number suppression: a property test over random data that no shown figure rests on
fewer than k responses, directly or by subtracting shown figures from a shown total."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings, strategies as st

from feedback import results
from feedback.suppression import min_responses, plan_partition

ITEMS = ["a", "b"]

responses = st.lists(st.tuples(st.integers(0, 10), st.integers(0, 10)), max_size=12)
parts_strategy = st.lists(responses, min_size=0, max_size=8)


def _inputs(parts):
    return [results.PartInput(i, len(rs), {"a": sum(r[0] for r in rs), "b": sum(r[1] for r in rs)})
            for i, rs in enumerate(parts)]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=parts_strategy, k=st.integers(3, 7), with_total=st.booleans())
def test_no_shown_figure_rests_on_fewer_than_k(parts, k, with_total):
    table = results.summarise(_inputs(parts), ITEMS, k, with_total=with_total)
    shown_n = 0
    shown_sums = {"a": 0, "b": 0}
    for row, rs in zip(table.rows, parts, strict=True):
        if row.shown:
            # Shown cells rest on at least k responses and show their true figures.
            assert row.n == len(rs) >= k
            assert row.means["a"] == round(sum(r[0] for r in rs) / len(rs), 1)
            shown_n += row.n
            shown_sums["a"] += sum(r[0] for r in rs)
        else:
            assert row.n is None and row.means == {}
            assert row.reason in ("too_few", "complementary", "empty")
            assert (row.reason == "too_few") == (0 < len(rs) < k)
            assert (row.reason == "empty") == (len(rs) == 0)
    total_n = sum(len(rs) for rs in parts)
    if table.total.shown:
        assert with_total and table.total.n == total_n >= k
        # Differencing: the total minus every shown part is what the hidden parts hold together.
        hidden_n = total_n - shown_n
        assert hidden_n == 0 or hidden_n >= k
        # Any subset of shown parts subtracted from the total leaves at least k responses
        # (or none): each shown part has >= k and the hidden remainder has 0 or >= k.
    else:
        assert table.total.n is None and table.total.means == {}
    # Without a shown total, every part that has enough answers is shown.
    if not table.total.shown:
        assert all(row.shown for row, rs in zip(table.rows, parts, strict=True) if len(rs) >= k)


@settings(max_examples=200, deadline=None)
@given(counts=st.dictionaries(st.integers(0, 20), st.integers(0, 30), max_size=10), k=st.integers(3, 7))
def test_plan_hides_as_little_as_it_can(counts, k):
    plan = plan_partition(counts, k)
    for key in plan.shown:
        assert counts[key] >= k
    too_few = [key for key, n in counts.items() if 0 < n < k]
    for key in too_few:
        assert plan.reasons[key] == "too_few"
    # Complementary hiding happens only when otherwise a small hidden remainder would show.
    if any(r == "complementary" for r in plan.reasons.values()):
        assert 0 < sum(counts[key] for key in too_few) < k


@settings(max_examples=200, deadline=None)
@given(counts=st.dictionaries(st.integers(0, 10), st.integers(0, 6), max_size=11), k=st.integers(3, 7))
def test_distribution_and_comments_need_k(counts, k):
    shown = results.distribution(counts, k)
    if shown is None:
        assert sum(counts.values()) < k
    else:
        assert sum(shown.values()) == sum(counts.values()) >= k
    comments = [f"c{i}" for i in range(sum(counts.values()))]
    listed = results.comments_if_enough(comments, k)
    assert (listed is None) == (len(comments) < k)


def test_threshold_default_and_floor():
    assert min_responses(None) == 5
    assert min_responses("junk") == 5
    assert min_responses(2) == 3
    assert min_responses(0) == 3
    assert min_responses(8) == 8


def test_example_complementary_suppression():
    # Sessions with 6, 7 and 2 responses: showing the total and the first two would give the
    # third by subtraction, so the smaller of the shown two is hidden as well.
    plan = plan_partition({1: 6, 2: 7, 3: 2}, 5)
    assert plan.shown == frozenset({2})
    assert plan.reasons == {1: "complementary", 3: "too_few"}
    assert plan.total_shown
    # Only one part and too few to hide anything behind it: the total goes too.
    plan = plan_partition({1: 2, 2: 0}, 5)
    assert not plan.total_shown and plan.shown == frozenset()
    # Protecting a small part would hide every other part: the total goes instead.
    plan = plan_partition({"Raha": 6, "Mieli": 2}, 5)
    assert plan.shown == frozenset({"Raha"}) and not plan.total_shown
