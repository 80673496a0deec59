"""Output family: the monitoring jobs' Kubernetes objects, one YAML file each under ``k8s/jobs/``."""
from __future__ import annotations

from modeldash.k8s.job_manifests import job_manifests
from modeldash.scripts.render_context import RenderContext
from modeldash.scripts.serialise import dumps_yaml

JOBS_DIR = "k8s/jobs"


def job_files(ctx: RenderContext) -> dict[str, str]:
    objects = job_manifests(ctx.spec)
    files = {}
    for o in objects:
        rel = f"{JOBS_DIR}/{o['kind'].lower()}-{o['metadata']['name']}.yaml"
        files[rel] = dumps_yaml(o)
        ctx.parsed[rel] = o  # lint reads the object, not the text again
    ctx.manifest["jobs"] = sorted(f"{o['kind']}/{o['metadata']['name']}" for o in objects)
    crons = sum(o["kind"] == "CronJob" for o in objects)
    ctx.summary.append(f"{crons} monitoring CronJobs and the Pushgateway ServiceMonitor in {JOBS_DIR}/")
    return files
