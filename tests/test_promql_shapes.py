"""The PromQL parse cache (one parse per expression shape) never changes lint's verdict."""
from __future__ import annotations

import copy
import itertools

import promql_parser
import pytest
from hypothesis import given, settings, strategies as st

from modeldash.dashboards.build import build_dashboards
from modeldash.scripts.lint import lint_dashboards
from modeldash.scripts.promql_check import parse_error, shape


def parses(expr: str) -> bool:
    try:
        promql_parser.parse(expr)
    except ValueError:
        return False
    return True


# every value of up to 3 characters from these, in every matcher and selector form below
ALPHABET = ["", "a", ".", "*", "+", "?", "|", "(", ")", "\\\\", "["]
TEMPLATES = ['{{job{op}"{v}"}}', 'up{{job {op} "{v}"}}', '{{a!~"", job{op}"{v}"}}', 'up {op}= "{v}"', 'up <{op} "{v}"']


def test_shape_parses_exactly_when_the_expression_does():
    values = sorted({"".join(p) for n in range(4) for p in itertools.product(ALPHABET, repeat=n)})
    checked = 0
    for v, op, template in itertools.product(values, ("=", "!=", "=~", "!~"), TEMPLATES):
        expr = template.format(op=op, v=v)
        assert parses(shape(expr)) == parses(expr), (expr, shape(expr))
        checked += 1
    assert checked > 10_000


@pytest.mark.parametrize("expr,stand_in", [
    ('up{model="m0042", pod=~"m0042-predictor(-.*)?"}', 'up{model="x", pod=~"x"}'),
    ('up{pod=~"m0042.*|.*-b"}', 'up{pod=~"x"}'),
    ('up{pod=~"(a)?"}', 'up{pod=~".*"}'),
    ('up{pod=~"[a-z]+"}', 'up{pod=~"[a-z]+"}'),  # a class: kept, it might not compile
    ('up{a="b\\\\c"}', 'up{a="b\\\\c"}'),  # an escape: kept
])
def test_label_values_share_a_shape(expr, stand_in):
    assert shape(expr) == stand_in


def test_only_empty_matchers_are_still_an_error():
    assert parse_error('{job=""}') and parse_error('{job!="x"}') and parse_error('{pod=~"a*"}')
    assert parse_error('{job="x"}') is None and parse_error('{pod=~"a+"}') is None


def test_lint_reports_a_bad_query_in_the_second_of_two_same_shape_dashboards(example_spec):
    """The first dashboard fills the cache with its (good) shapes; the second's broken regex
    and empty-only selector must still be found."""
    first, second = [copy.deepcopy(b.json) for b in build_dashboards(example_spec) if b.kind == "model"][:2]
    assert lint_dashboards([first, second], ["prometheus"]) == []
    exprs = {p["id"]: p["targets"][0]["expr"] for p in first["panels"] if p.get("targets")}
    panel = next(p for p in second["panels"] if p.get("targets") and '=~"' in p["targets"][0]["expr"]
                 and shape(p["targets"][0]["expr"]) == shape(exprs.get(p["id"], "")))
    good = panel["targets"][0]["expr"]
    assert good != exprs[panel["id"]]  # another model's values, the same shape
    panel["targets"][0]["expr"] = good.replace('=~"', '=~"(', 1)
    problems = lint_dashboards([first, second], ["prometheus"])
    assert [(p.dashboard, p.reason[:33]) for p in problems] == [(second["uid"], "query A does not parse: illegal r")]
    panel["targets"][0]["expr"] = '{model=""}'
    problems = lint_dashboards([first, second], ["prometheus"])
    assert [p.dashboard for p in problems] == [second["uid"]]
    assert "non-empty matcher" in problems[0].reason


def _shape_with_lookbehind(expr: str) -> str:
    """``shape`` as first written: the regex matcher found by a look-behind on its ``=`` or ``!``."""
    import re

    from modeldash.scripts import promql_check as pc

    regex = re.compile(r'(?<=[=!])~\s*"([^"\\]*)"')
    return regex.sub(lambda m: pc._regex_stand_in_for(m.group(1), m.group(0)), pc._PLAIN_EQ.sub('="x"', expr))


@settings(max_examples=1500, deadline=None)
@given(st.text(alphabet='=!~ "a.*|()\\', max_size=30))
def test_shape_without_the_look_behind_is_the_same_text(expr):
    assert shape(expr) == _shape_with_lookbehind(expr)
