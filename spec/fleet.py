"""The fleet spec: one YAML file parsed once into typed, validated objects.

Nothing downstream reads raw YAML. Every validation problem becomes a ``SpecError`` that
names the file and the field path (``models[1].thresholds.latency_p95.warning``), so the
CLI can print one clear line and exit 2.
"""
from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

import yaml
from pydantic import BeforeValidator, Field, ValidationError, field_validator, model_validator

from modeldash.spec.base import (  # noqa: F401  (re-exported for callers)
    FieldProblem,
    FleetLabelMap,
    ForDuration,
    SafeText,
    SubFieldProblem,
    positive_duration,
    dns_label_problem,
    DurationField,
    LabelMap,
    SpecError,
    StrictModel,
    check_uid,
    dashboard_uid,
    format_duration,
    make_uid,
    non_negative,
    parse_duration,
)
from modeldash.spec.safe_values import checked, display_name_problem, folder_title_problem, number_problem, safe_text_problem, url_problem
from modeldash.spec.alerting import AlertingSpec
from modeldash.spec.jobs import JobsSpec
from modeldash.spec.kubernetes import KubernetesField, KubernetesSpec
from modeldash.spec.prometheus import PrometheusSpec
from modeldash.spec.slo import SloSpec, check_fleet_slos
from modeldash.spec.outputs import OutputList
from modeldash.datasources.backends import BACKENDS

# --------------------------------------------------------------------------- thresholds


def _levels_in(lo: float, hi: float, lo_open: bool = False, hi_open: bool = False, meaning: str = ""):
    """A field validator: None (no such level) or a finite number in the interval."""

    def check(cls, v):
        problem = None if v is None else number_problem(v, lo, hi, lo_open, hi_open, meaning)
        if problem:
            raise ValueError(problem)
        return v

    return classmethod(check)


class WarnCrit(StrictModel):
    """A warning and a critical level for one signal, and how long it must hold.

    A level set to null means "no alert at that level" (panels then draw no line for it).
    Node levels are ratios of capacity: above 0 (else always firing), below 1 (else never).
    """

    warning: float | None = None
    critical: float | None = None
    for_: ForDuration = Field(default=300, alias="for")

    _lv = field_validator("warning", "critical")(_levels_in(0, 1, True, True, "a ratio of capacity"))

    @model_validator(mode="after")
    def _ordered(self):
        if self.warning is not None and self.critical is not None and self.warning >= self.critical:
            raise ValueError(f"warning ({self.warning:g}) must be below critical ({self.critical:g})")
        return self


class LatencyLevels(WarnCrit):
    """Latency levels in seconds; ``500ms`` and ``1s`` are both accepted; above 0, at most 1h."""

    warning: DurationField | None = None
    critical: DurationField | None = None

    _lv = field_validator("warning", "critical")(_levels_in(0, 3600, True, False, "a latency in seconds"))


class ErrorRatioLevels(WarnCrit):
    _lv = field_validator("warning", "critical")(
        _levels_in(0, 1, False, True, "a ratio of requests (5 % is 0.05)"))


class TrafficThreshold(StrictModel):
    """``ModelTrafficStopped``: request rate at or below ``floor_rps`` for ``for``, after traffic in ``lookback``."""

    floor_rps: float = 0.0
    for_: ForDuration = Field(default=300, alias="for")
    lookback: ForDuration = 3600

    _nn = field_validator("floor_rps")(_levels_in(0, 1e6, meaning="requests per second"))
    _lb = field_validator("lookback")(classmethod(lambda cls, v: positive_duration(v)))


class ClassShareThreshold(StrictModel):
    """Alarm when a class's share leaves ``baseline +/- tolerance`` for ``for``."""

    tolerance: float = 0.3
    for_: ForDuration = Field(default=600, alias="for")

    _tol = field_validator("tolerance")(_levels_in(0, 1, True, True, "a share"))


DRIFT_MAX = 1000.0  # PSI and chi2 are unbounded; a larger threshold can never be reached in practice


class DriftThreshold(StrictModel):
    threshold: float = 0.3
    for_: ForDuration = Field(default=900, alias="for")
    method: Literal["psi", "ks", "js", "chi2"] = "psi"

    _thr = field_validator("threshold")(_levels_in(0, DRIFT_MAX, True, False, "a drift score"))


class QualityThreshold(StrictModel):
    """Floors for ground-truth metrics; only used when the model declares ``ground_truth: true``."""

    accuracy_min: float | None = 0.8
    recall_min: float | None = None
    precision_min: float | None = None
    f1_min: float | None = None
    rmse_max: float | None = None
    mae_max: float | None = None
    for_: ForDuration = Field(default=1800, alias="for")

    _ratio = field_validator("accuracy_min", "recall_min", "precision_min", "f1_min")(
        _levels_in(0, 1, meaning="a ratio"))
    _err = field_validator("rmse_max", "mae_max")(_levels_in(0, 1e15, True, False, "an error in the label's unit"))


class ModelThresholds(StrictModel):
    latency_p95: LatencyLevels = LatencyLevels(warning=0.5, critical=1.0)
    latency_p99: LatencyLevels = LatencyLevels(warning=1.0, critical=2.0)
    error_ratio: ErrorRatioLevels = ErrorRatioLevels(warning=0.01, critical=0.05)
    traffic: TrafficThreshold = TrafficThreshold()
    class_share: ClassShareThreshold = ClassShareThreshold()
    drift: DriftThreshold = DriftThreshold()
    quality: QualityThreshold = QualityThreshold()


class InfrastructureThresholds(StrictModel):
    """Node-level levels, as ratios of capacity (0.85 is 85 %); merged key by key with these defaults."""

    node_cpu: WarnCrit = WarnCrit(warning=0.85, critical=None)
    node_memory: WarnCrit = WarnCrit(warning=0.90, critical=None)
    node_disk: WarnCrit = WarnCrit(warning=0.85, critical=0.95, **{"for": 600})
    node_not_ready_for: ForDuration = 300


RESTARTS_MAX = 1000


class PlatformThresholds(StrictModel):
    """Workload-level levels for pods, deployments, HPAs and containers; merged key by key with these defaults."""

    pod_not_running_for: ForDuration = 300
    crash_loop_for: ForDuration = 300
    restarts_in_5m: int = 3
    replicas_mismatch_for: ForDuration = 300
    hpa_maxed_for: ForDuration = 600
    container_limit_ratio: float = 0.9
    container_limit_for: ForDuration = 300

    _ratio = field_validator("container_limit_ratio")(_levels_in(0, 1, True, False, "a ratio of the limit"))
    _restarts = field_validator("restarts_in_5m")(_levels_in(0, RESTARTS_MAX, meaning="a count of restarts"))


# --------------------------------------------------------------------------- fleet parts


class DatasourceSpec(StrictModel):
    name: str = "Prometheus"
    uid: str = "prometheus"
    url: str = "http://prometheus-operated.monitoring.svc:9090"

    _url = field_validator("url")(classmethod(lambda cls, v: checked(url_problem, v)))
    _name = field_validator("name")(classmethod(lambda cls, v: checked(display_name_problem, v, "datasource name")))

    @field_validator("uid")
    @classmethod
    def _uid(cls, v):
        return check_uid(v)


class GrafanaSpec(StrictModel):
    folder: str = "ML Models"
    folder_uid: str | None = None

    @field_validator("folder")
    @classmethod
    def _title(cls, v):
        if len(v) > 190:
            raise ValueError("folder title must be 1 to 190 characters")
        return checked(folder_title_problem, v)

    @field_validator("folder_uid")
    @classmethod
    def _uid(cls, v):
        return None if v is None else check_uid(v)


def _backend_name(v: Any) -> Any:
    if isinstance(v, str) and v not in BACKENDS:
        raise ValueError(f"unknown serving backend {v!r}; choose one of {', '.join(sorted(BACKENDS))}")
    return v


BackendName = Annotated[str, BeforeValidator(_backend_name)]


class Defaults(StrictModel):
    backend: BackendName = "kserve"
    error_backend: BackendName | None = None
    thresholds: ModelThresholds = ModelThresholds()
    slo: SloSpec | None = None  # objectives every model inherits (spec/slo.py)


class FeatureSpec(StrictModel):
    """A monitored input feature; its drift threshold overrides the model's."""

    name: str
    kind: Literal["numeric", "categorical"] = "numeric"
    threshold: float | None = None

    _name = field_validator("name")(classmethod(lambda cls, v: checked(safe_text_problem, v, "feature name")))
    _thr = field_validator("threshold")(_levels_in(0, DRIFT_MAX, True, False, "a drift score"))


def _feature(v: Any) -> Any:
    return {"name": v} if isinstance(v, str) else v


class ModelSpec(StrictModel):
    name: str
    namespace: str
    inference_service: str | None = None
    backend: BackendName | None = None
    error_backend: BackendName | None = None
    task: Literal["classification", "regression"]
    classes: dict[str, float] = Field(default_factory=dict)
    features: list[Annotated[FeatureSpec, BeforeValidator(_feature)]] = Field(default_factory=list)
    ground_truth: bool = False
    thresholds: ModelThresholds = ModelThresholds()
    owner_team: SafeText | None = None
    runbook_url: str | None = None
    labels: LabelMap = Field(default_factory=dict)
    slo: SloSpec | None = None

    _rb = field_validator("runbook_url")(classmethod(lambda cls, v: v if v is None else checked(url_problem, v)))

    @field_validator("name")
    @classmethod
    def _name(cls, v):
        return check_uid(v, what="model name")

    @field_validator("namespace", "inference_service")
    @classmethod
    def _dns(cls, v):
        problem = None if v is None else dns_label_problem(v, "Kubernetes name")
        if problem:
            raise ValueError(problem)
        return v

    @model_validator(mode="after")
    def _task_fields(self):
        if self.task == "classification":
            if len(self.classes) < 2:
                raise ValueError("classes: a classifier needs at least two classes with their baseline share")
            for cls_name, share in self.classes.items():
                problem = safe_text_problem(cls_name, "class name")
                if problem:
                    raise SubFieldProblem(("classes", cls_name), problem)
                if not 0 <= share <= 1:
                    raise ValueError(f"classes.{cls_name}: baseline share {share:g} is not between 0 and 1")
            total = sum(self.classes.values())
            if abs(total - 1.0) > 1e-6:
                raise ValueError(f"classes: baseline shares sum to {total:g}, not 1")
        elif self.classes:
            raise ValueError("classes: only classification models have classes")
        names = [f.name for f in self.features]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"features: duplicate feature {dup[0]!r}")
        return self

    # Derived values: asked of the spec, never recomputed by callers.
    @property
    def isvc(self) -> str:
        return self.inference_service or self.name

    @property
    def uid(self) -> str:
        return self.name

    @property
    def dashboard_uid(self) -> str:
        return dashboard_uid("model", self.name)

    def drift_threshold(self, feature: FeatureSpec) -> float:
        return feature.threshold if feature.threshold is not None else self.thresholds.drift.threshold


class FleetSpec(StrictModel):
    """The whole fleet; ``load_spec`` is the only way one is made from a file."""

    name: str = "ml-fleet"
    grafana: GrafanaSpec = GrafanaSpec()
    datasource: DatasourceSpec = DatasourceSpec()
    prometheus: PrometheusSpec = PrometheusSpec()
    defaults: Defaults = Defaults()
    labels: FleetLabelMap = Field(default_factory=dict)
    infrastructure: InfrastructureThresholds = InfrastructureThresholds()
    platform: PlatformThresholds = PlatformThresholds()
    jobs: JobsSpec = JobsSpec()
    alerting: AlertingSpec = AlertingSpec()
    models: list[ModelSpec] = Field(min_length=1)
    kubernetes: KubernetesField = KubernetesSpec()  # after models: its endpoints name models
    outputs: Optional[OutputList] = None  # which outputs render writes (spec/outputs.py); None: all

    @field_validator("name")
    @classmethod
    def _name(cls, v):
        return check_uid(v, what="fleet name")

    @model_validator(mode="after")
    def _unique(self):
        seen: dict[str, int] = {}
        for i, m in enumerate(self.models):
            if m.name in seen:
                raise FieldProblem(("models", i, "name"), f"duplicate model name {m.name!r} (also models[{seen[m.name]}])")
            seen[m.name] = i
        cluster = self.prometheus.cluster_label
        if self.prometheus.multi_cluster and cluster in self.labels:
            raise FieldProblem(("labels", cluster), f"the data carries {cluster!r} per cluster "
                               "(prometheus.multi_cluster); a fixed value here would relabel every cluster's alerts")
        unknown = self.jobs.unknown_models(seen)
        if unknown:
            raise FieldProblem(("jobs", "models", unknown[0]), "is not a model of the fleet")
        check_fleet_slos(self)
        return self

    @property
    def folder_uid(self) -> str:
        return self.grafana.folder_uid or make_uid(self.grafana.folder)

    def backend_for(self, model: ModelSpec):
        """The serving backend object of a model (its own, else the fleet default)."""
        from modeldash.datasources.backends import get_backend

        return get_backend(model.backend or self.defaults.backend)

    def error_backend_for(self, model: ModelSpec):
        """Where a model's HTTP status codes come from: its backend, unless that has none."""
        from modeldash.datasources.backends import get_backend

        own = self.backend_for(model)
        name = model.error_backend or self.defaults.error_backend
        if own.has_status_codes and not model.error_backend:
            return own
        return get_backend(name) if name else None

    def team_of(self, model: ModelSpec) -> str:
        return model.owner_team or self.labels.get("team", "unowned")


# --------------------------------------------------------------------------- loading


def _deep_merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _inherit_slo(source: str, i: int, model: dict, default: Any) -> dict:
    """A model's ``slo`` is the defaults' merged with its own; ``slo: null`` opts a model out."""
    if "slo" in model and model["slo"] is None or not isinstance(default, dict):
        return model
    own = model.get("slo") or {}
    if not isinstance(own, dict):
        raise SpecError(source, f"models[{i}].slo", "must be a mapping (or null to opt out of the defaults)")
    return {**model, "slo": _deep_merge(default, own)}


def _path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            part = "for" if part == "for_" else str(part)
            out += f"[{part!r}]" if not part.isprintable() else ("." if out else "") + part
    return out


def _first_error(exc: ValidationError, prefix: tuple = ()) -> tuple[str, str]:
    errors = exc.errors(include_url=False)
    # A misspelt key also makes the right one "missing": report the misspelling first.
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    ctx_err = (err.get("ctx") or {}).get("error")
    if isinstance(ctx_err, SubFieldProblem):
        return _path(prefix + loc + ctx_err.loc), str(ctx_err)
    if isinstance(ctx_err, FieldProblem):
        return _path(prefix + ctx_err.loc), str(ctx_err)
    msg = err["msg"]
    for lead in ("Value error, ", "Assertion failed, "):
        if msg.startswith(lead):
            msg = msg[len(lead):]
    if err["type"] == "extra_forbidden":
        msg = "unknown key (check the spelling; see the spec reference in README.md)"
    elif err["type"] == "missing":
        msg = "required key is missing"
    # Validators of a whole model report on the model; name the sub-field when the message does.
    m = re.match(r"^(classes|features)(\.[^:]+)?: (.*)$", msg)
    if m:
        loc = loc + (m.group(1),) + ((m.group(2)[1:],) if m.group(2) else ())
        msg = m.group(3)
    return _path(prefix + loc), msg


def load_spec_data(data: Any, source: str = "<spec>") -> FleetSpec:
    """Validate an already-parsed YAML document. Model thresholds inherit ``defaults.thresholds``."""
    if not isinstance(data, dict):
        raise SpecError(source, "", "the spec must be a YAML mapping with a 'models' list")
    defaults_raw = (data.get("defaults") or {}) if isinstance(data.get("defaults"), dict) else {}
    try:
        Defaults.model_validate(defaults_raw)
    except ValidationError as exc:
        field, msg = _first_error(exc, ("defaults",))
        raise SpecError(source, field, msg) from None
    own_defaults = defaults_raw.get("thresholds") or {}
    base_thresholds = _deep_merge(ModelThresholds().model_dump(by_alias=True), own_defaults)
    # top-level `x-...` keys hold YAML anchors for `<<: *anchor` merges (as in docker-compose)
    merged = {k: v for k, v in data.items() if not (isinstance(k, str) and k.startswith("x-"))}
    # infrastructure and platform are merged key by key with their defaults, like thresholds
    for key, model in (("infrastructure", InfrastructureThresholds), ("platform", PlatformThresholds)):
        if isinstance(data.get(key), dict):
            merged[key] = _deep_merge(model().model_dump(by_alias=True), data[key])
    models = data.get("models")
    if isinstance(models, list):
        merged_models = []
        for i, m in enumerate(models):
            if isinstance(m, dict):
                own = m.get("thresholds") or {}
                if not isinstance(own, dict):
                    raise SpecError(source, f"models[{i}].thresholds", "must be a mapping")
                m = {**m, "thresholds": _deep_merge(base_thresholds, own)}
                m = _inherit_slo(source, i, m, defaults_raw.get("slo"))
            merged_models.append(m)
        merged["models"] = merged_models
    try:
        return FleetSpec.model_validate(merged)
    except ValidationError as exc:
        field, msg = _first_error(exc)
        raise SpecError(source, field, msg) from None


class _DuplicateKey(yaml.MarkedYAMLError):
    pass


class _SpecLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml parses 4x faster when built in
    """A safe loader that refuses duplicate keys: YAML keeps the last one silently, hiding typos."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *anchor`: its keys may be overridden by the node's own keys
            if not isinstance(key_node, yaml.ScalarNode):
                raise _DuplicateKey(problem="a mapping key must be a plain string, not a list or mapping",
                                    problem_mark=key_node.start_mark)
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise _DuplicateKey(problem=f"duplicate key {key!r}", problem_mark=key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


_YAML_LOADER = _SpecLoader


def load_spec(path: str | Path) -> FleetSpec:
    """Read and validate a fleet spec file; every problem is a ``SpecError``."""
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(source, "", "file not found") from None
    except IsADirectoryError:
        raise SpecError(source, "", "is a directory; give the fleet spec file (e.g. fleet.yaml)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(source, "", f"cannot read: {exc.__class__.__name__}") from None
    try:
        data = yaml.load(text, Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise SpecError(source, "", f"{where}{problem}") from None
    return load_spec_data(data, source)


def bundled_example() -> Path:
    """The example fleet shipped inside the package: ``examples/fleet.yaml``, the one copy."""
    import modeldash.examples

    return Path(modeldash.examples.__file__).resolve().parent / "fleet.yaml"
