"""The cells of the capability table (flowc/compiler/capability_table.py): verdicts, targets, one Decision."""

from __future__ import annotations

from dataclasses import dataclass

HONOUR, REFUSE, WARN, NOTE = "honour", "refuse", "warn", "note"
TARGETS = ("argo", "step-functions", "airflow", "skypilot", "local")
ORCHESTRATORS = ("argo", "step-functions", "airflow")
KUBERNETES_TARGETS = ("argo", "airflow")
SEVERITY = {REFUSE: "error", WARN: "warning", NOTE: "note"}


@dataclass(frozen=True)
class Decision:
    verdict: str  # HONOUR, REFUSE, WARN or NOTE
    reason: str  # honoured: how; otherwise: why not, and what to do instead


def argument_construct(decorator: str, arg: str) -> str:
    return f"@{decorator}({arg}=)"


def cells(verdict: str, reason: str, targets=TARGETS) -> dict[str, Decision]:
    return {t: Decision(verdict, reason) for t in targets}
