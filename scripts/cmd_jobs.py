"""``modeldash baseline``, ``drift-job`` and ``quality-job``: the batch producers of the model series.

\b
Exit codes of the jobs:
  0  scored and pushed (or written)
  2  bad input: spec, options, missing or duplicate columns, empty window, a column
     without a finite value, constant baseline column, unreadable file or database,
     no ground truth (quality), unwritable --report/-o; nothing is pushed
  5  the Pushgateway (or textfile directory) did not take the metrics after retries,
     or the URL answered as no Pushgateway does (an HTML page, a redirect)
"""
from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime, timedelta, timezone

import click

from modeldash.spec.base import parse_duration
from modeldash.instrumentation.errors import DataProblem
from modeldash.scripts import job_checks as checks
from modeldash.scripts.cli_common import DB_URL_ENV, EXIT_PUSH, SPEC_ARG, BadInput, guarded, read_spec

# numpy, scipy, pyarrow and SQLAlchemy are imported inside the commands, so that the rest of
# the CLI (render, lint, ...) does not pay their start-up time.



# --------------------------------------------------------------------------- shared pieces


def _model(spec, name: str | None):
    names = [m.name for m in spec.models]
    unknown = spec.jobs.unknown_models(names)
    if unknown:
        raise BadInput(f"jobs.models: {unknown[0]!r} is not a model of the fleet (models: {', '.join(names)})")
    if name is None:
        if len(names) == 1:
            return spec.models[0]
        raise BadInput(f"--model is required (models: {', '.join(names)})")
    for m in spec.models:
        if m.name == name:
            return m
    raise BadInput(f"--model {name!r}: no such model in the spec (models: {', '.join(names)})")


def _db_url(env_name: str, sqlite: str | None) -> str | None:
    if sqlite:
        return f"sqlite:///{os.path.abspath(sqlite)}"
    return os.environ.get(env_name) or None


def _duration(value: str, option: str) -> float:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise BadInput(f"{option}: {exc}") from None


def _window(end: str | None, window: str | None, delay: str | None, job_spec) -> tuple[datetime, datetime]:
    if end:
        try:
            stop = datetime.fromisoformat(end.replace("Z", "+00:00"))
        except ValueError:
            raise BadInput(f"--end: {end!r} is not an ISO 8601 time (e.g. 2026-01-31T12:00:00Z)") from None
        stop = stop if stop.tzinfo else stop.replace(tzinfo=timezone.utc)
    else:
        stop = datetime.now(timezone.utc)
    stop -= timedelta(seconds=_duration(delay, "--delay") if delay else job_spec.delay)
    length = _duration(window, "--window") if window else job_spec.window_seconds
    if length <= 0:
        raise BadInput("--window: must be a positive duration")
    return stop - timedelta(seconds=length), stop


def _data(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except DataProblem as exc:
        raise BadInput(str(exc)) from None


def _deliver(registry, job: str, model: str, gateway: str | None, textfile_dir: str | None, dry_run: bool,
             attempts: int, backoff: float) -> str:
    from modeldash.scripts import job_outputs as outputs

    checks.finite_registry(registry, f"{job} job of {model}")
    if dry_run:
        return "not pushed (--dry-run)"
    try:
        if textfile_dir:
            return f"written to {outputs.write_textfile(registry, textfile_dir, job, model)}"
        outputs.push(registry, gateway, job, model, attempts=attempts, backoff=backoff,
                     log=lambda m: click.echo(m, err=True))
        return f"pushed to {gateway} (job={job}, model={model})"
    except outputs.PushFailed as exc:
        click.echo(f"error: {exc}; nothing was recorded, the last-success time stays old", err=True)
        sys.exit(EXIT_PUSH)


def _push_options(fn):
    for decorator in reversed([
        click.option("--pushgateway", "gateway", metavar="URL", help="Pushgateway to push to [default: the spec's jobs.pushgateway_url]."),
        click.option("--textfile-dir", type=click.Path(file_okay=False), help="Write a .prom file for node-exporter's textfile collector instead of pushing."),
        click.option("--dry-run", is_flag=True, help="Score and report, push nothing."),
        click.option("--report", "report_path", metavar="FILE", help="Write the JSON report here."),
        click.option("--push-attempts", default=4, show_default=True, type=click.IntRange(1, 20), help="Tries before giving up."),
        click.option("--push-backoff", default=1.0, show_default=True, type=click.FloatRange(0, 60), help="First wait between tries (doubles each time)."),
    ]):
        fn = decorator(fn)
    return fn


ENGINE_HELP = ("How to read the window: memory (whole window in RAM), stream (files in record batches, bounded "
               "memory), sql (the database counts; only counts come back); auto = sql for table:/query: "
               "sources, stream for files.")


_engine_option = click.option("--engine", default="auto", show_default=True,
                              type=click.Choice(["auto", "memory", "stream", "sql"]), help=ENGINE_HELP)


def _source_options(fn):
    for decorator in reversed([
        click.option("--db-url-env", default=DB_URL_ENV, show_default=True, metavar="NAME", help="Environment variable holding the SQLAlchemy URL of table:/query: sources."),
        click.option("--sqlite", type=click.Path(dir_okay=False), help="Use this SQLite file as the database instead."),
    ]):
        fn = decorator(fn)
    return fn


# --------------------------------------------------------------------------- baseline


@click.command("baseline")
@SPEC_ARG
@click.option("--model", "model_name", metavar="NAME", help="The model (required when the spec has several).")
@click.option("--input", "source", required=True, metavar="SOURCE", help="Training data: file.csv, file.parquet, table:NAME or query:SQL.")
@click.option("--prediction-column", metavar="COL", help="Also profile the model's outputs in this column (for prediction drift).")
@click.option("--bins", default=10, show_default=True, type=click.IntRange(2, 100), help="Quantile bins per numeric feature (PSI).")
@click.option("--ecdf-points", default=2000, show_default=True, type=click.IntRange(10, 100000), help="ECDF grid points per numeric feature (KS).")
@click.option("-o", "--output", required=True, metavar="FILE", help="Where to write the profile JSON.")
@_source_options
@guarded
def baseline_cmd(spec, model_name, source, prediction_column, bins, ecdf_points, output, db_url_env, sqlite):
    """Profile training data as the drift job's baseline (deterministic JSON).

    \b
    Example:
      modeldash baseline fleet.yaml --model fraud-detector --input train.parquet \\
          --prediction-column prediction -o fraud-detector.baseline.json
    """
    from modeldash.instrumentation import baseline as baseline_mod
    from modeldash.scripts import job_inputs as inputs
    from modeldash.scripts import job_outputs as outputs

    fleet, _ = read_spec(spec)
    model = _model(fleet, model_name)
    checks.writable_file(output, "-o")
    if not model.features and not prediction_column:
        raise BadInput(f"model {model.name!r} has no features in the spec and no --prediction-column: nothing to profile")
    src = inputs.parse_source(source)
    cols = [f.name for f in model.features] + ([prediction_column] if prediction_column else [])
    table = inputs.read_table(src, cols, db_url=_db_url(db_url_env, sqlite), types=_types(model, prediction_column))
    columns = _columns(table, model, src.label)
    pred = _prediction(table, model, prediction_column, src.label) if prediction_column else None
    profile = _data(baseline_mod.build_profile, model, columns, rows=table.num_rows, prediction=pred,
                    bins=bins, ecdf_points=ecdf_points)
    outputs.write_report(profile, output)
    click.echo(f"baseline of {model.name}: {table.num_rows} rows, {len(profile['features'])} features -> {output}")


def _types(model, prediction_column: str | None = None) -> dict:
    """Arrow types of the feature (and prediction) columns, so CSV blocks are read alike."""
    import pyarrow as pa

    out = {f.name: pa.float64() if f.kind == "numeric" else pa.string() for f in model.features}
    if prediction_column:
        out[prediction_column] = pa.string() if model.task == "classification" else pa.float64()
    return out


def _columns(table, model, label) -> dict:
    from modeldash.scripts import job_inputs as inputs

    out = {}
    for f in model.features:
        if f.kind == "numeric":
            out[f.name] = _finite(table, f.name, label)
        else:
            out[f.name] = inputs.category_counts(table, f.name)
    return out


def _prediction(table, model, column, label):
    from modeldash.scripts import job_inputs as inputs

    if model.task == "classification":
        return inputs.category_counts(table, column)
    return _finite(table, column, label)


def _finite(table, column, label, shown=None):
    """A numeric column with +-inf left out like missing values, and a note saying so."""
    from modeldash.scripts import job_inputs as inputs

    values, n_inf = inputs.numeric_column_counted(table, column, label)
    note = checks.infinite_values(values, n_inf, shown or column, label)
    if note:
        click.echo(f"note: {note}", err=True)
    return values


def _load_baseline(path: str, model) -> dict:
    from modeldash.instrumentation import baseline as baseline_mod

    try:
        with open(path, encoding="utf-8") as fh:
            profile = json.load(fh)
    except FileNotFoundError:
        raise BadInput(f"{path}: baseline file not found (build it with `modeldash baseline`)") from None
    except (OSError, ValueError) as exc:
        raise BadInput(f"{path}: not a readable JSON baseline: {exc.__class__.__name__}") from None
    _data(baseline_mod.check_profile, profile, model, path)
    return profile


# --------------------------------------------------------------------------- drift-job


@click.command("drift-job")
@SPEC_ARG
@click.option("--model", "model_name", metavar="NAME", help="The model (required when the spec has several).")
@click.option("--baseline", "baseline_path", required=True, type=click.Path(dir_okay=False), help="Baseline profile from `modeldash baseline`.")
@click.option("--input", "source", metavar="SOURCE", help="Inference inputs: file.csv, file.parquet, table:NAME or query:SQL [default: the spec's jobs.models.<model>.inputs].")
@click.option("--timestamp-column", metavar="COL", help="Column the window applies to [default: from the spec, 'timestamp'].")
@click.option("--window", metavar="DURATION", help="Length of the production window, e.g. 1h [default: the drift job's window/period].")
@click.option("--end", metavar="TIME", help="End of the window, ISO 8601 [default: now].")
@click.option("--delay", metavar="DURATION", help="Shift the window's end back by this much [default: jobs.drift.delay].")
@click.option("--all-rows", is_flag=True, help="Score every row of the input, no time window.")
@click.option("--prediction-column", metavar="COL", help="Also score prediction drift on this output column.")
@_engine_option
@_source_options
@_push_options
@guarded
def drift_job_cmd(spec, model_name, baseline_path, source, timestamp_column, window, end, delay, all_rows,
                  prediction_column, engine, db_url_env, sqlite, gateway, textfile_dir, dry_run, report_path,
                  push_attempts, push_backoff):
    """Score one model's production window against its baseline and push model_drift_score.

    PSI and KS per numeric feature, PSI and Jensen-Shannon distance per categorical one, and the
    same on the model's outputs (feature "__prediction__"). Pushes to the Pushgateway under
    job="drift", model=<model> (each run replaces the last) with the last-success time.

    \b
    Example:
      MODELDASH_DB_URL=postgresql+psycopg://... modeldash drift-job fleet.yaml \\
          --model fraud-detector --baseline fraud-detector.baseline.json \\
          --input table:fraud_inputs --window 1h --report drift.json
    \b
    Exit codes: 0 ok, 2 bad input (nothing pushed), 5 push failed after retries.
    """
    from modeldash.instrumentation import drift, exports
    from modeldash.scripts import job_inputs as inputs
    from modeldash.scripts import job_outputs as outputs

    fleet, _ = read_spec(spec)
    model = _model(fleet, model_name)
    checks.writable_file(report_path, "--report")
    settings = fleet.jobs.for_model(model.name)
    profile = _load_baseline(baseline_path, model)
    src = inputs.parse_source(source or settings.inputs)
    ts_col = None if all_rows else (timestamp_column or settings.timestamp_column)
    start, stop = (None, None) if all_rows else _window(end, window, delay, fleet.jobs.drift)
    cols = [f.name for f in model.features] + ([prediction_column] if prediction_column else [])
    if not cols:
        raise BadInput(f"model {model.name!r} has no features in the spec and no --prediction-column: nothing to score")
    counted = _drift_counts(engine, src, model, profile, prediction_column, ts_col, start, stop,
                            _db_url(db_url_env, sqlite), cols)
    for note in counted.detail.pop("notes", []):
        click.echo(f"note: {note}", err=True)
    report = _data(drift.drift_report, model, profile, counted.columns, counted.prediction)
    registry = exports.drift_registry(report, time.time())
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    where = _deliver(registry, exports.DRIFT_JOB, model.name, gateway or fleet.jobs.pushgateway_url, textfile_dir,
                     dry_run, push_attempts, push_backoff)
    doc = report.as_dict()
    rows = counted.rows
    doc.update(rows=rows, window=_window_doc(start, stop, ts_col), source=src.label,
               engine={"name": counted.engine, "rows": rows, **counted.detail})
    if report_path:
        outputs.write_report(doc, report_path)
    drifted = doc["drifted"]
    click.echo(f"drift of {model.name}: {rows} rows ({counted.engine} engine), {len(report.features)} scored, "
               f"{len(drifted)} over threshold{(' (' + ', '.join(drifted) + ')') if drifted else ''}; {where}")


def _drift_counts(engine, src, model, profile, prediction_column, ts_col, start, stop, db_url, cols):
    """The window reduced to what the scores need, by the chosen engine (``job_streams.Counted``)."""
    from modeldash.scripts import job_inputs as inputs
    from modeldash.scripts import job_streams as streams

    chosen = streams.pick_engine(engine, src)
    notes = []
    if chosen == "sql":
        try:
            return streams.drift_sql(src, model, profile, prediction_column, ts_col, start, stop, db_url)
        except streams.CannotPush as exc:
            if engine == "sql":
                raise BadInput(str(exc)) from None
            notes.append(f"{exc}; read in memory instead")
            chosen = "memory"
    if chosen == "stream":
        return streams.drift_stream(src, model, profile, prediction_column, ts_col, start, stop,
                                    _types(model, prediction_column))
    table = inputs.read_table(src, cols, timestamp_column=ts_col, start=start, end=stop, db_url=db_url,
                              types=_types(model, prediction_column))
    columns = _columns(table, model, src.label)
    pred = _prediction(table, model, prediction_column, src.label) if prediction_column else None
    return streams.Counted(columns, pred, table.num_rows, "memory", {"notes": notes} if notes else {})


def _window_doc(start, stop, column) -> dict | None:
    if start is None:
        return None
    return {"column": column, "start": start.isoformat(), "end": stop.isoformat()}


# --------------------------------------------------------------------------- quality-job


@click.command("quality-job")
@SPEC_ARG
@click.option("--model", "model_name", metavar="NAME", help="The model (required when the spec has several).")
@click.option("--predictions", "pred_source", metavar="SOURCE", help="Predictions: file, table:NAME or query:SQL [default: from the spec].")
@click.option("--labels", "label_source", metavar="SOURCE", help="Ground-truth labels: file, table:NAME or query:SQL [default: from the spec].")
@click.option("--id-column", metavar="COL", help="Join key present in both [default: from the spec, 'request_id'].")
@click.option("--prediction-column", metavar="COL", help="Predicted class/value column [default: 'prediction'].")
@click.option("--label-column", metavar="COL", help="True class/value column [default: 'label'].")
@click.option("--timestamp-column", metavar="COL", help="Timestamp of the predictions [default: 'timestamp'].")
@click.option("--window", metavar="DURATION", help="Predictions scored, e.g. 6h [default: the quality job's window/period].")
@click.option("--end", metavar="TIME", help="End of the window, ISO 8601 [default: now].")
@click.option("--delay", metavar="DURATION", help="Shift the window's end back (labels arrive late) [default: jobs.quality.delay].")
@click.option("--all-rows", is_flag=True, help="Score every prediction, no time window.")
@_engine_option
@_source_options
@_push_options
@guarded
def quality_job_cmd(spec, model_name, pred_source, label_source, id_column, prediction_column, label_column,
                    timestamp_column, window, end, delay, all_rows, engine, db_url_env, sqlite, gateway,
                    textfile_dir, dry_run, report_path, push_attempts, push_backoff):
    """Join predictions with delayed ground truth and push accuracy/precision/recall/F1 or RMSE/MAE.

    \b
    Example:
      modeldash quality-job fleet.yaml --model fraud-detector \\
          --predictions preds.parquet --labels labels.csv --window 6h --delay 1h
    \b
    Exit codes: 0 ok, 2 bad input (nothing pushed), 5 push failed after retries.
    """
    from modeldash.instrumentation import exports, quality
    from modeldash.scripts import job_inputs as inputs
    from modeldash.scripts import job_outputs as outputs
    from modeldash.scripts import job_streams as streams

    fleet, _ = read_spec(spec)
    model = _model(fleet, model_name)
    checks.require_ground_truth(fleet, model)
    checks.writable_file(report_path, "--report")
    s = fleet.jobs.for_model(model.name)
    id_col = id_column or s.id_column
    pred_col = prediction_column or s.prediction_column
    label_col = label_column or s.label_column
    ts_col = None if all_rows else (timestamp_column or s.timestamp_column)
    start, stop = (None, None) if all_rows else _window(end, window, delay, fleet.jobs.quality)
    db = _db_url(db_url_env, sqlite)
    psrc = inputs.parse_source(pred_source or s.predictions)
    lsrc = inputs.parse_source(label_source or s.labels)
    chosen = streams.pick_engine(engine, psrc, lsrc)
    detail: dict = {}
    if chosen != "memory":
        try:
            out, n_preds, n_joined, detail = streams.quality_sql(psrc, lsrc, model, id_col, pred_col, label_col, ts_col,
                                                                 start, stop, db)
        except streams.CannotPush as exc:
            if engine != "auto":
                raise BadInput(str(exc)) from None
            click.echo(f"note: {exc}; read in memory instead", err=True)
            chosen, detail = "memory", {"fallback": str(exc)}
    for note in detail.pop("notes", []):
        click.echo(f"note: {note}", err=True)
    if chosen != "memory":
        if model.task == "classification":
            report = _data(quality.classification_from_pairs, model.name, model.classes.keys(), out)
        else:
            report = _data(quality.regression_from_sums, model.name, *out)
    else:
        report, n_preds, n_joined = _quality_in_memory(model, psrc, lsrc, id_col, pred_col, label_col, ts_col, start, stop, db)
    registry = exports.quality_registry(report, time.time())
    where = _deliver(registry, exports.QUALITY_JOB, model.name, gateway or fleet.jobs.pushgateway_url, textfile_dir,
                     dry_run, push_attempts, push_backoff)
    doc = report.as_dict()
    doc.update(window=_window_doc(start, stop, ts_col), predictions=n_preds, labelled=n_joined,
               sources={"predictions": psrc.label, "labels": lsrc.label},
               engine={"name": chosen, "rows": n_joined, **detail})
    doc["excluded_rows"] = n_joined - report.rows  # null, NaN or infinite label or prediction
    if report_path:
        outputs.write_report(doc, report_path)
    headline = (f"accuracy {report.values['accuracy']:.4f}" if model.task == "classification"
                else f"rmse {report.values['rmse']:.4g}, mae {report.values['mae']:.4g}")
    click.echo(f"quality of {model.name}: {n_joined} labelled of {n_preds} predictions ({chosen} engine), {headline}; {where}")


def _quality_in_memory(model, psrc, lsrc, id_col, pred_col, label_col, ts_col, start, stop, db):
    """Both tables read whole and joined by Arrow: ``(report, predictions, labelled)``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from modeldash.instrumentation import quality
    from modeldash.scripts import job_inputs as inputs

    preds = inputs.read_table(psrc, [id_col, pred_col], timestamp_column=ts_col, start=start, end=stop, db_url=db)
    labels = inputs.read_table(lsrc, [id_col, label_col], db_url=db)
    preds = preds.select([id_col, pred_col]).rename_columns(["id", "prediction"])
    labels = labels.select([id_col, label_col]).rename_columns(["id", "label"])
    for name, t, src in (("predictions", preds, psrc), ("labels", labels, lsrc)):
        if t.column("id").null_count:
            raise BadInput(f"{src.label}: column {id_col!r} has {t.column('id').null_count} empty ids")
        if len(pc.unique(t.column("id"))) != t.num_rows:
            raise BadInput(f"{src.label}: column {id_col!r} has duplicate ids; each {name[:-1]} needs one row")
    try:
        if preds.column("id").type != labels.column("id").type:
            preds = preds.set_column(0, "id", preds.column("id").cast(pa.string()))
            labels = labels.set_column(0, "id", labels.column("id").cast(pa.string()))
        joined = preds.join(labels, keys="id", join_type="inner")
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise BadInput(f"cannot join predictions with labels on {id_col!r}: {str(exc).splitlines()[0]}") from None
    if joined.num_rows == 0:
        raise BadInput(f"no prediction in {psrc.label} (window) has a label in {lsrc.label} yet (joined on {id_col!r}); nothing to score")
    if model.task == "classification":
        report = _data(quality.classification_quality, model.name, model.classes.keys(),
                       inputs.text_values(joined, "label"), inputs.text_values(joined, "prediction"))
    else:
        report = _data(quality.regression_quality, model.name,
                       _finite(joined, "label", lsrc.label, label_col), _finite(joined, "prediction", psrc.label, pred_col))
    return report, preds.num_rows, joined.num_rows

