"""Example KServe custom predictor for ``fraud-detector``, instrumented with modeldash.

Where the calls go: build ``PredictionMetrics`` once (at start-up), then after each batch
call ``observe_classification`` with the predicted classes and their confidences. Nothing
else: drift and quality are computed by the batch jobs, never inside ``predict``.

KServe's model server serves prometheus-client's default registry on ``/metrics``, so the
series appear there. Run it with ``python examples/predictor.py`` (needs ``pip install kserve``);
the module itself imports without kserve, so it can be tested anywhere.
"""
from __future__ import annotations

import math

from modeldash.instrumentation import PredictionMetrics

try:  # the example must import (and be tested) where kserve is not installed
    from kserve import Model, ModelServer
except ImportError:  # pragma: no cover - exercised by the tests with kserve hidden
    ModelServer = None

    class Model:  # the two members of kserve.Model this example uses
        def __init__(self, name: str):
            self.name = name
            self.ready = False


CLASSES = ("legit", "fraud")  # the spec's `classes` of fraud-detector; anything else counts as "other"


class FraudPredictor(Model):
    """A toy scoring rule standing in for a real model; the instrumentation is the point."""

    def __init__(self, name: str, registry=None):
        super().__init__(name)
        # Once per process. registry=None is prometheus-client's default registry (KServe's /metrics).
        self.metrics = PredictionMetrics(name, classes=CLASSES, registry=registry)

    def load(self) -> bool:
        self.weights = (0.004, 3.0, -0.002)  # amount, merchant_risk, account_age_days
        self.ready = True
        return self.ready

    def _score(self, row) -> float:
        amount, risk, age = float(row[0]), float(row[1]), float(row[2])
        z = self.weights[0] * amount + self.weights[1] * risk + self.weights[2] * age - 2.0
        return 1.0 / (1.0 + math.exp(-z))

    def predict(self, payload: dict, headers: dict | None = None) -> dict:
        p_fraud = [self._score(row) for row in payload["instances"]]
        classes = ["fraud" if p >= 0.5 else "legit" for p in p_fraud]
        confidence = [max(p, 1.0 - p) for p in p_fraud]
        # After each batch: one call records the class counts and the confidence histogram.
        self.metrics.observe_classification(classes, confidences=confidence)
        return {"predictions": [{"class": c, "confidence": round(p, 4)} for c, p in zip(classes, confidence)]}


if __name__ == "__main__":  # pragma: no cover
    if ModelServer is None:
        raise SystemExit("kserve is not installed: pip install kserve")
    model = FraudPredictor("fraud-detector")
    model.load()
    ModelServer().start([model])
