"""docs/kubernetes.md's copy into a Grafana provisioning folder keeps everyone else's files
(issue 11: `rsync --delete` of the whole folder deleted them). Runs the doc's own shell block."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from conftest import REPO

DOC = REPO / "docs" / "kubernetes.md"


def _doc_block() -> str:
    text = DOC.read_text()
    section = text.split("## A Grafana outside Kubernetes", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def test_the_documented_copy_touches_only_modeldash_files(cli, tmp_path):
    if not shutil.which("rsync"):
        pytest.fail("rsync is missing: `make test` installs Debian's rsync")
    assert cli("render", "-o", tmp_path / "out").exit_code == 0
    prov = tmp_path / "grafana" / "provisioning"
    foreign = {"dashboards/team.yaml": "providers: []\n", "dashboards/team/board.json": "{}\n",
               "datasources/chart.yaml": "datasources: []\n", "alerting/team-rules.yaml": "groups: []\n",
               "plugins/app.yaml": "apps: []\n", "notifiers/old.yaml": "notifiers: []\n"}
    stale = ["alerting/modeldash-alerts-model-gone.yaml", "dashboards/modeldash/ML Models/md-model-gone.json"]
    for rel, body in foreign.items():
        (prov / rel).parent.mkdir(parents=True, exist_ok=True)
        (prov / rel).write_text(body)
    for rel in stale:
        (prov / rel).parent.mkdir(parents=True, exist_ok=True)
        (prov / rel).write_text("old\n")
    block = _doc_block()
    assert "P=/etc/grafana/provisioning" in block
    script = block.replace("P=/etc/grafana/provisioning", f"P='{prov}'")
    subprocess.run(["bash", "-euc", script], cwd=tmp_path, check=True, timeout=60)
    for rel, body in foreign.items():
        assert (prov / rel).read_text() == body, rel
    for rel in stale:
        assert not (prov / rel).exists(), rel
    rendered = sorted(p.relative_to(tmp_path / "out" / "provisioning") for p in (tmp_path / "out" / "provisioning").rglob("*") if p.is_file())
    assert rendered
    for rel in rendered:
        assert (prov / rel).read_bytes() == (tmp_path / "out" / "provisioning" / rel).read_bytes(), rel
