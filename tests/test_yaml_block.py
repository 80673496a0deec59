"""The fast block-YAML emitter (k8s/yaml_block.py) writes text that reads back as the same data."""
from __future__ import annotations

import math

import yaml
from hypothesis import given, settings, strategies as st

from modeldash.k8s import yaml_block

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# strings as hostile specs and generated files carry them: YAML words, numbers, indentation,
# quotes, colons, comments, control and non-BMP characters, multi-line texts
_WORDS = st.sampled_from(["yes", "No", "on", "OFF", "null", "~", "true", "1e3", "0x1f", "1:20", ".inf", "- a",
                          "a: b", "#c", "'q'", '"q"', "", " ", "\t", "x\n", "\n", "a\n\n", " lead\nx",
                          "k8s.io/name", "<%= x %>", "{{ $labels.model }}", "line\r\nbreak", "\u2028", "\x7f",
                          "é", "\U0001f600", "a\tb\n  c\n"])
_TEXT = st.one_of(_WORDS, st.text(max_size=30), st.text(alphabet="ab \n:-#'\"\t|>", max_size=30))
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), _TEXT)
_DATA = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_TEXT, inner, max_size=4)),
    max_leaves=25,
)


@settings(max_examples=600, deadline=None)
@given(_DATA)
def test_round_trips_through_libyaml(obj):
    assert yaml.load(yaml_block.dumps(obj), Loader=_LOADER) == obj


def test_special_floats_and_exponents_stay_numbers():
    obj = {"a": [float("inf"), float("-inf"), 1e-05, 1e16, -0.0, 3.0]}
    back = yaml.load(yaml_block.dumps(obj), Loader=_LOADER)
    assert back["a"][:2] == [math.inf, -math.inf] and back["a"][2:] == [1e-05, 1e16, -0.0, 3.0]
    assert math.isnan(yaml.load(yaml_block.dumps({"n": float("nan")}), Loader=_LOADER)["n"])


def test_multi_line_strings_are_literal_blocks():
    text = yaml_block.dumps({"data": {"rules.yaml": "groups:\n- name: a\n  rules: []\n"}, "kind": "ConfigMap"})
    assert text == "data:\n  rules.yaml: |\n    groups:\n    - name: a\n      rules: []\nkind: ConfigMap\n"


def test_what_it_cannot_write_goes_to_pyyaml():
    obj = {1: "int key", "s": "x"}  # a non-string key: PyYAML's framing, same data
    assert yaml.load(yaml_block.dumps(obj), Loader=_LOADER) == obj
    assert yaml.load(yaml_block.dumps("bare"), Loader=_LOADER) == "bare"


def test_the_ascii_fast_checks_agree_with_the_character_classes():
    # _literal_safe / _quoted skip the regex for ASCII strings: the same verdict for every character
    chars = [chr(c) for c in range(0x100)] + ["\u2028", "\u2029", "\ufeff", "é", "\U0001f600"]
    for c in chars:
        text = f"line one\n{c}\nline three"
        assert yaml_block._literal_safe(text) == (yaml_block._NOT_LITERAL.search(text) is None), repr(c)
        try:
            yaml_block._quoted(c)
            quoted = True
        except yaml_block._Unsure:
            quoted = False
        assert quoted == (yaml_block._NOT_QUOTABLE.search(c) is None), repr(c)
    text = yaml_block.dumps({"a": "x\n\x01\ny", "b": "x\ny\n"})  # a control character: quoted, not a block
    assert text == 'a: "x\\n\\u0001\\ny"\nb: |\n  x\n  y\n'
    assert yaml.load(text, Loader=_LOADER) == {"a": "x\n\x01\ny", "b": "x\ny\n"}
