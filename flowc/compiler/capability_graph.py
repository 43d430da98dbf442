"""The capability table's graph and flow shapes: split, foreach, conditionals, recursion, Parameter kinds, Config.

The decorator rows and the table itself: flowc/compiler/capability_table.py.
"""

from __future__ import annotations

from flowc.compiler.capability_cells import HONOUR, ORCHESTRATORS, REFUSE, WARN, Decision, cells

AIRFLOW_UNROLLED = (
    "unrolled into @recursion(max=) tasks (at most 100), iteration N running only if N-1 chose the step again"
)
# The SkyPilot target compiles each @skypilot step as one task launched by the orchestrator or by hand.
SKYPILOT_NO_SWITCH = (
    "a SkyPilot task's launcher hands on neither a conditional's choice nor a recursion's iteration; "
    "deploy the flow to argo, step-functions or airflow, or run it with `flowc run`"
)

PARAMETER_TYPES = {
    "str": "Parameter(str)",
    "int": "Parameter(int)",
    "float": "Parameter(float)",
    "bool": "Parameter(bool)",
    "json": "Parameter(JSONType)",
    "file": "IncludeFile",
}
GRAPH_DECISIONS: dict[str, dict[str, Decision]] = {
    "linear": cells(HONOUR, "one task after another"),
    "split": {
        "argo": Decision(HONOUR, "parallel DAG tasks"),
        "step-functions": Decision(HONOUR, "a Parallel state"),
        "airflow": Decision(HONOUR, "fan-out and fan-in"),
        "skypilot": Decision(HONOUR, "one task per step"),
        "local": Decision(HONOUR, "parallel processes"),
    },
    "foreach": {
        "argo": Decision(HONOUR, "a nested DAG over withParam"),
        "step-functions": Decision(HONOUR, "a Distributed Map over the split list in S3"),
        "airflow": Decision(HONOUR, ".expand() over the task ids"),
        "skypilot": Decision(HONOUR, "one task per step"),
        "local": Decision(HONOUR, "one process per item"),
    },
    "nested foreach": cells(HONOUR, "a foreach inside a foreach's body, with task ids like 3.7"),
    "conditional": {
        "skypilot": Decision(REFUSE, SKYPILOT_NO_SWITCH),
        "argo": Decision(HONOUR, "`when` on the switch's output parameter; the meeting task depends on any branch"),
        "step-functions": Decision(HONOUR, "an S3 read of the task's branch.json, then a Choice state"),
        "airflow": Decision(
            HONOUR,
            "the switch task's XCom is the chosen step; each task below it runs if a parent leads to it, "
            "else skips itself (per map index); the meeting task's trigger rule is none_failed_min_one_success",
        ),
        "local": Decision(HONOUR, "only the chosen branch runs; the meeting step reads the branch that ran"),
    },
    "recursion": {
        "skypilot": Decision(REFUSE, SKYPILOT_NO_SWITCH),
        "argo": Decision(HONOUR, "a DAG template that calls itself while the step chooses itself"),
        "step-functions": Decision(HONOUR, "a loop in the state machine, --iteration from a counter in the state"),
        "airflow": Decision(HONOUR, AIRFLOW_UNROLLED),
        "local": Decision(HONOUR, "one task per iteration (task ids T-0, T-1, ...), bounded by @recursion(max=...)"),
    },
    **{
        name: cells(HONOUR, "passed to the start step as --param NAME=TEXT")
        for name in PARAMETER_TYPES.values()
        if name != "IncludeFile"
    },
    # Same meaning everywhere because the runtime gives it: every target passes the text through.
    "Parameter(multiple=True)": cells(
        HONOUR, "its --param text is a JSON array (or one value); the step sees a tuple (an array Param on airflow)"
    ),
    "Parameter(separator=)": cells(HONOUR, "the text passes through; the runtime splits it into a list of str"),
    "Config": cells(HONOUR, "its values are read at compile time and sent to every task with --config-values"),
    # A task never opens a path it is given (it could name a pod's token): the launcher reads the file.
    "IncludeFile": {
        **cells(
            WARN,
            "a task never opens a path: `flowc trigger` reads the file (given or default) and "
            "includes it; a run started another way (a schedule, the orchestrator's own UI) "
            "fails at start with the reason",
            ORCHESTRATORS + ("skypilot",),
        ),
        "local": Decision(HONOUR, "`flowc run` reads the file where it is launched and includes it"),
    },
}
