"""What every row needs: scratch space, the two tools, sample counts, and the reasons a cell is skipped."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGETS = ["argo", "step-functions", "airflow"]
# Metaflow's step-functions compile creates a Batch client per step (about 0.2 s and 9 MiB each).
PEER_SFN_MAX_STEPS = 100
PEER_SFN_CAP = "Metaflow cell capped at 100 steps: grows 0.2 s and 9 MiB per step"


@dataclass
class Context:
    tmp: Path
    runs: int
    smoke: bool
    peer: object | None  # peer.Peer, or None with peer_reason
    peer_reason: str = ""
    python: str = sys.executable
    artifact_bytes: int = 8 * 2**20
    findings: list = field(default_factory=list)  # profiling notes printed under the table

    @property
    def flowc(self) -> str:
        return str(Path(sys.executable).parent / "flowc")

    def log(self, message: str) -> None:
        print(f"  .. {message}", file=sys.stderr, flush=True)

    def scratch(self, name: str) -> Path:
        path = self.tmp / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def targets_built(self) -> list[str]:
        """Targets whose emitter module is present now (they land one by one)."""
        from flowc.compiler.targets import available

        return available()

    def target_missing(self, target: str) -> str:
        return "" if target in self.targets_built() else f"not measured: target {target} not built yet"

    def run_missing(self) -> str:
        """'' when `flowc run` exists, else why not."""
        probe = subprocess.run([self.flowc, "run", "--help"], capture_output=True)
        return "" if probe.returncode == 0 else "not measured: `flowc run` not built yet"

    def peer_missing(self) -> str:
        return "" if self.peer is not None else self.peer_reason
