"""The Prometheus text format written by ``smartmod.serve.exposition``, line by line."""
from __future__ import annotations

import pytest

from smartmod.serve.exposition import Counter, Gauge, Histogram, render


def test_counter_with_labels_renders_help_type_and_sorted_samples():
    counter = Counter("requests_total", "Requests.", ("code",))
    counter.inc(code="b")
    counter.inc(2, code="a")
    assert render([counter]) == '# HELP requests_total Requests.\n# TYPE requests_total counter\nrequests_total{code="a"} 2\nrequests_total{code="b"} 1\n'


def test_label_values_escape_backslash_quote_and_newline_and_any_label_name_works():
    gauge = Gauge("info", "Info.", ("value",))
    gauge.set(1, value='a\\b"c\nd')
    assert 'info{value="a\\\\b\\"c\\nd"} 1' in render([gauge])


def test_histogram_buckets_are_cumulative_and_end_with_inf():
    histogram = Histogram("latency_seconds", "Latency.", (0.25, 1.0))
    histogram.observe([0.125, 0.5, 0.5, 3.0])
    histogram.observe(0.25)
    lines = render([histogram]).splitlines()[2:]
    assert lines == ['latency_seconds_bucket{le="0.25"} 2', 'latency_seconds_bucket{le="1"} 4', 'latency_seconds_bucket{le="+Inf"} 5',
                     "latency_seconds_sum 4.375", "latency_seconds_count 5"]


def test_counter_refuses_to_go_down_and_wrong_labels():
    counter = Counter("c_total", "C.", ("code",))
    with pytest.raises(ValueError, match="only go up"):
        counter.inc(-1, code="a")
    with pytest.raises(ValueError, match=r"takes labels \['code'\]"):
        counter.inc(status="a")


def test_histogram_refuses_unsorted_buckets():
    with pytest.raises(ValueError, match="strictly increasing"):
        Histogram("h", "H.", (1.0, 0.5))
