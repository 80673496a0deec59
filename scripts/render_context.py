"""What every output family is handed: the spec and what the previous render left."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from modeldash.spec.fleet import FleetSpec

MANIFEST = ".modeldash-manifest.json"


@dataclass
class RenderContext:
    """What every output family may use: the spec, and what the previous render left (if any)."""

    spec: FleetSpec
    out_dir: Path
    previous_manifest: dict = field(default_factory=dict)
    # filled by the output families as they run, for the manifest and the summary
    manifest: dict = field(default_factory=dict)
    summary: list[str] = field(default_factory=list)
    # objects already serialised into files, by path, so lint need not parse them again
    parsed: dict[str, object] = field(default_factory=dict)


OutputFn = Callable[[RenderContext], dict[str, str]]
