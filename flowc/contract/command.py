"""The runtime command every target renders, and what its exit code means.

    python -m flowc.runtime step FLOW_FILE STEP --run-id RUN --task-id TASK
        --datastore ROOT [--origin-run RUN[/STEP]] [--param NAME=VALUE ...] [--attempt N --max-attempts M]
        [--foreach-out PATH] [--branch-out PATH] [--iteration N [--next-iteration-out PATH]]
        [--decorator JSON ...] [--package URL] [--environment SHA] [--config-values B64]
        [--project-branch BRANCH]

Conditionals and recursion (docs/conditionals.md), what a target renders:

- A switch step (`self.next({"a": self.x, ...}, condition="route")`) runs its
  body, then reads the artifact `route`; a value not in the map fails the task
  with EXIT_USAGE and one line naming the allowed values (the step's code,
  given the same inputs, names the same missing branch: a retry cannot help).
  It writes `branch.json` ({"value": ..., "next": "<step>"}, plain JSON,
  before DONE) into its task folder and, with `--branch-out PATH`, the chosen
  step's name as plain text (no newline) into PATH: Argo's output parameter
  (`valueFrom.path`), Airflow's XCom, a Step Functions Choice's input.
  A task that is already done writes PATH again from branch.json.
- Only the chosen branch runs.  The meeting step (no `inputs`) finds its one
  parent by listing: the parent with a DONE task (a switch parent counts only
  if its branch.json names this step); the orchestrator passes nothing.
- A recursive step (its map names itself) runs once per iteration, each its
  own task: `--task-id T --iteration N` runs the task `T-N` (ids.py), whose
  parent is `T-(N-1)` (iteration 0's parent is the step before).  The
  orchestrator repeats while the chosen step is the step itself, adding 1 to
  N.  Choosing itself on iteration `recursion_max - 1` (@recursion(max=...),
  default 100), or being started with N >= recursion_max, fails the task
  with EXIT_USAGE: every target stops at the same count because the runtime
  counts.  The step after the loop finds the last iteration by listing.
- `--iteration` on a step that is not recursive is EXIT_USAGE.
- `--next-iteration-out PATH` (with `--iteration N` only) writes N+1 as plain
  text into PATH when the task starts: an orchestrator that cannot add (Argo
  without `{{=...}}` expressions) passes it to the next iteration.

The compiler builds this argv (flowc/compiler/command.py), the runtime parses
it (flowc/runtime/__main__.py), the local runner and the SkyPilot launcher
read its exit codes; all of them take the names from here.
"""

from __future__ import annotations

RUNTIME_MODULE = "flowc.runtime"
STEP_COMMAND = "step"
SKYPILOT_LAUNCHER_MODULE = "flowc.runtime.skypilot_launch"

RUN_ID_FLAG = "--run-id"
TASK_ID_FLAG = "--task-id"
DATASTORE_FLAG = "--datastore"
PARAM_FLAG = "--param"  # NAME=VALUE, read by the start step
ATTEMPT_FLAG = "--attempt"  # zero-based
MAX_ATTEMPTS_FLAG = "--max-attempts"
FOREACH_OUT_FLAG = "--foreach-out"  # where a foreach step also writes its split list for the orchestrator
BRANCH_OUT_FLAG = "--branch-out"  # where a switch step also writes the chosen step's name for the orchestrator
ITERATION_FLAG = "--iteration"  # a recursive step's iteration, 0-based; its task is <task-id>-<iteration>
NEXT_ITERATION_OUT_FLAG = "--next-iteration-out"  # where a recursive step writes N+1, for an orchestrator's loop
DEFAULT_RECURSION_MAX = 100  # iterations of a recursive step without @recursion(max=...)
DECORATOR_FLAG = "--decorator"  # JSON {"name": {args}} of a decorator attached with --with
PACKAGE_FLAG = "--package"  # URL of the code package (s3://.../<sha256>.tar.gz or a path)
# The sha256 of the step's locked Python environment (its entry in the flow's lock file): the runtime puts the
# environment's packages, fetched from the datastore by hash, on sys.path before it imports the flow.
ENVIRONMENT_FLAG = "--environment"
# The flow's Config values as the compiler resolved them: base64 (urlsafe) of compact JSON {name: value}.
# Base64 because its alphabet holds no syntax of any orchestrator ({{, $(, ', {}), whatever the values hold.
CONFIG_VALUES_FLAG = "--config-values"
# Remote resume (`flowc resume RUN -t TARGET`): the new run's tasks read this origin, "RUN" or "RUN/STEP"
# (re-run STEP and everything after it); "" or absent is a fresh run.  A task whose step runs again, or that
# the origin did not finish intact, runs; any other is copied from the origin (flowc/runtime/reuse.py) and
# exits as an already-done task does.  A bad value (not a run id, not a step, the run itself) is EXIT_USAGE.  ORIGIN_RUN_INPUT is the name of the
# orchestrator input that carries it: an Argo workflow parameter, a Step Functions execution input key beside
# "parameters", an Airflow dag-run conf key.  No Parameter can take this name.
# @project (contract/project.py): the branch the run belongs to, "user.NAME", "test.NAME", "prod" or "prod.NAME";
# the runtime fills `current.branch_name`, `project_flow_name`, `is_production` from it.
PROJECT_BRANCH_FLAG = "--project-branch"
ORIGIN_RUN_FLAG = "--origin-run"
ORIGIN_RUN_INPUT = "flowc-origin-run"


def encode_config_values(values: dict) -> str:
    import base64
    import json

    # keys in the file's order (as Metaflow shows a config), which is as deterministic as sorting them
    text = json.dumps(values, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return base64.urlsafe_b64encode(text.encode("ascii")).decode("ascii")


def decode_config_values(text: str) -> dict:
    """ValueError when `text` is not what encode_config_values writes."""
    import base64
    import binascii
    import json

    try:
        values = json.loads(base64.urlsafe_b64decode(text.encode("ascii")).decode("ascii"))
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise ValueError(f"{CONFIG_VALUES_FLAG} is not base64 of JSON ({exc})") from None
    if not isinstance(values, dict):
        raise ValueError(f"{CONFIG_VALUES_FLAG} must hold a JSON object")
    return values


# An IncludeFile parameter's value on the runtime's command line: the file as the launcher read it, stored
# in the datastore as an artifact blob (`flowc-include:<sha256>`).  The runtime never opens a path it is given.
INCLUDED_FILE_PREFIX = "flowc-include:"

EXIT_OK = 0  # the task succeeded, or @catch caught the step's exception
EXIT_FAILED = 1  # the step (or the datastore) failed; an orchestrator may retry
EXIT_USAGE = 2  # the command or the flow is wrong; retrying cannot help
EXIT_LAUNCH = 3  # the SkyPilot launcher could not launch the task or lost track of it
EXIT_CORRUPT = 4  # a blob the task reads is corrupt; retrying cannot help (`flowc resume` re-runs its writer)
# Exit codes no retry can change: the local runner and every orchestrator's retry policy leave them alone.
NOT_RETRIED = (EXIT_USAGE, EXIT_CORRUPT)
