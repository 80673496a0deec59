"""Checks at the jobs' boundaries: what goes in (spec, columns, values) and what comes out.

Why a module of its own: the jobs' data path (engines, accumulators) changes; these rules must
hold whatever reads the data. Non-finite numbers (``inf``, ``-inf``) are treated exactly like a
missing value (null, NaN): left out of every score and counted, so the pushed series and the
JSON report always agree. A column with no finite value at all is not scored (exit 2). As a last
guard, nothing non-finite is ever pushed: a run that would push ``+Inf`` stops before the push.
"""
from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from modeldash.scripts.errors import BadInput

if TYPE_CHECKING:  # numpy is imported where it is used: the CLI imports this module for every command
    import numpy as np


def require_ground_truth(fleet, model) -> None:
    """``quality-job`` needs labels: a model without ``ground_truth: true`` has no quality to score."""
    index = next(i for i, m in enumerate(fleet.models) if m.name == model.name)
    if not model.ground_truth:
        raise BadInput(f"models[{index}].ground_truth: model {model.name!r} has no ground truth "
                       "(set ground_truth: true in the spec to score its quality)")


def writable_file(path: str | None, option: str) -> None:
    """Refuse an output path that cannot be written, before any work is done (nothing is created)."""
    if not path:
        return
    target = Path(path)
    if target.is_dir():
        raise BadInput(f"{option} {path}: is a directory")
    parent = target.parent
    while not parent.exists():  # the nearest existing folder: write_report creates the rest
        if parent == parent.parent:
            break
        parent = parent.parent
    if not parent.is_dir():
        raise BadInput(f"{option} {path}: {parent} is not a directory")
    if target.exists() and not os.access(target, os.W_OK):
        raise BadInput(f"{option} {path}: not writable")
    try:  # os.access says yes to root even on a read-only mount: try for real
        fd, probe = tempfile.mkstemp(prefix=".modeldash-probe-", dir=parent)
    except OSError as exc:
        raise BadInput(f"{option} {path}: cannot write in {parent}: {exc.strerror or exc.__class__.__name__}") from None
    os.close(fd)
    os.unlink(probe)


def infinite_values(values: np.ndarray, n_inf: int, column: str, label: str) -> str | None:
    """``values`` had ``n_inf`` +-inf, now NaN (``job_inputs.numeric_column_counted``): the note
    saying so, or bad input when no finite value is left."""
    import numpy as np

    return infinite_counts(len(values), int(np.count_nonzero(~np.isnan(values))), n_inf, column, label)


def infinite_counts(rows: int, finite: int, n_inf: int, column: str, label: str) -> str | None:
    """``infinite_values`` from counts (what a pushed-down query returns): ``finite`` of ``rows``."""
    if not n_inf:
        return None
    if not finite:
        missing = rows - n_inf
        raise BadInput(f"{label}: column {column!r} has no finite value ({n_inf} infinite"
                       f"{f', {missing} missing' if missing else ''}); not scored, nothing pushed")
    return f"{label}: column {column!r}: {n_inf} infinite value(s) left out like missing ones"


def finite_registry(registry, what: str) -> None:
    """Refuse to push (or write) any non-finite sample: ``+Inf`` would fire an alert the report cannot show."""
    for family in registry.collect():
        for sample in family.samples:
            if not math.isfinite(sample.value):
                labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
                raise BadInput(f"{what}: {sample.name}{{{labels}}} would be {sample.value}; a non-finite "
                               "score is never pushed (an infinite value in the data?)")


def unique_columns(names: list[str], label: str, wanted: list[str] | None = None) -> None:
    """A column name twice is ambiguous (which one is the feature?): refused, for ``wanted`` or all."""
    seen: set[str] = set()
    dups = []
    for n in names:
        if n in seen and n not in dups and (wanted is None or n in wanted):
            dups.append(n)
        seen.add(n)
    if dups:
        raise BadInput(f"{label}: duplicate column name(s) {', '.join(repr(d) for d in dups)} in the header; "
                       "each column needs a unique name")
