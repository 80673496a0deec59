"""The one JSON and the YAML styles of every generated file, and the one way to read them back."""
from __future__ import annotations

import orjson
import yaml

from modeldash.k8s import yaml_block

_JSON_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def dumps_json(obj) -> str:
    """The one JSON style of every generated file: sorted keys, 2-space indent, final newline.

    orjson writes the same text as ``json.dumps(indent=2, sort_keys=True, ensure_ascii=False)``
    about ten times faster (the stdlib falls back to pure Python when indenting).
    """
    return orjson.dumps(obj, option=_JSON_OPTIONS).decode("utf-8")


def dumps_json_bytes(obj) -> bytes:
    """``dumps_json`` as the UTF-8 bytes that go to disk: a streaming render writes its largest
    documents (tens of MB at 1,000 models) without a str copy and an encoded copy beside them."""
    return orjson.dumps(obj, option=_JSON_OPTIONS)


def dumps_yaml_json(obj) -> str:
    """A large YAML document (rule files, promtool tests, rule-group files, PrometheusRules) as
    JSON, which every YAML parser reads (YAML 1.2 is a superset of JSON; promtool, Grafana,
    kubectl and kustomize accept it): the same text as ``dumps_json``, one orjson call.

    PyYAML's representer is pure Python even with libyaml (it was about 70 % of a 1,000-model
    render), and any per-node layout decided in Python costs seconds on a 50 MB rule file; an
    indented JSON document is written in C, one value per line, which also keeps diffs small.
    Read back with ``loads_yaml``, not ``yaml.safe_load`` (PyYAML's YAML 1.1 takes ``1e-05`` for
    a string)."""
    return dumps_json(obj)


def dumps_yaml(obj) -> str:
    """The YAML style of manifests and hand-read files: sorted keys, block style, no aliases,
    multi-line strings as literal blocks (``k8s/yaml_block.py``: PyYAML's meaning, faster)."""
    return yaml_block.dumps(obj)


def loads_yaml(text: str):
    """A generated YAML file: orjson when it is JSON (``dumps_yaml_json``), libyaml otherwise."""
    if text.lstrip()[:1] in ("{", "["):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass  # flow-style YAML that is not JSON: let the YAML parser say what is wrong
    return yaml.load(text, Loader=_LOADER)
