"""The producers of the model's own series: predictor instrumentation and the batch jobs' maths.

``PredictionMetrics`` is what a model server calls after each batch. The drift and quality
modules are the pure computations behind ``modeldash drift-job`` and ``modeldash quality-job``;
their I/O (reading tables, pushing to a Pushgateway) lives in ``modeldash.scripts``.
"""
from modeldash.instrumentation.prediction_metrics import PredictionMetrics

__all__ = ["PredictionMetrics"]
