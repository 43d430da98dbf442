"""A @skypilot step on Step Functions: a small Batch job that launches the step's SkyPilot task and waits for it.

The launcher is the one every orchestrator runs (flowc/compiler/lower/skypilot.py
`launcher_argv`, flowc/runtime/skypilot_launch.py), on the image
`Options.skypilot_image` (SkyPilot + flowc), with:

- `ContainerOverrides.Command` the launcher argv; run-time values (run id,
  task id inside a Map, attempt, parameters) are `--env NAME=VALUE` items
  built with intrinsics like the runtime argv's;
- small fixed resources (`LAUNCHER_RESOURCES`): the step's own `@resources`
  are the SkyPilot task's, on the VM;
- no `Environment`: the step's `@environment` is in the task's `envs`;
- no `--foreach-out`: the runtime on the VM writes a foreach step's split list
  to the datastore (`.../foreach.json`), where the Distributed Map reads it;
- the code package's URL compiled into the task's `FLOWC_PACKAGE` (deploy
  always compiles with it).  A state machine has no workflow argument to take
  it at run time the way Argo's `flowc-package` does, so a compile without
  `--package-url` is warned about, and its launcher stops with exit 2 naming
  FLOWC_PACKAGE (not retried).

The task YAML travels inline (`--task-yaml`), inside Batch's 8,192-character
ContainerOverrides: it is ~2.5 KB for a usual step, and the limit check
measures it.  A step whose task does not fit is refused at its line.
"""

from __future__ import annotations

from flowc.compiler.diagnostics import Diagnostic
from flowc.compiler.ir import FlowGraph, Step
from flowc.compiler.lower.skypilot import BACKEND, launcher_argv, restarts_in_skypilot, step_problems
from flowc.compiler.options import Options

# What the launcher itself needs: `sky` waiting on a job is a small Python process.
LAUNCHER_RESOURCES = [{"Type": "VCPU", "Value": "1"}, {"Type": "MEMORY", "Value": "2048"}]


def is_launched(step: Step) -> bool:
    """The step runs on SkyPilot: its Batch job is the launcher."""
    return step.compute.backend == BACKEND


def argv(flow: FlowGraph, step: Step, options: Options) -> tuple:
    """The launcher argv items (no --foreach-out: the Map reads the split list from the datastore)."""
    return launcher_argv(flow, step, options)


def retried_by_skypilot(step: Step) -> bool:
    """A managed job is restarted by SkyPilot (@retry -> max_restarts_on_errors): no retry loop around it too."""
    return is_launched(step) and restarts_in_skypilot(step)


def problems(flow: FlowGraph, options: Options) -> list[Diagnostic]:
    """What a @skypilot step combines that SkyPilot cannot take, and a missing code package URL (a warning)."""
    found = []
    for step in flow.steps:
        if not is_launched(step):
            continue
        found += step_problems(step)
        if not options.package_url:
            found.append(
                Diagnostic(
                    step.location_of("skypilot"),
                    f"step-functions: @skypilot step '{step.name}' fetches the code package on its VM, and a state "
                    "machine takes its URL only compiled in: `flowc deploy` does that; by hand pass --package-url "
                    "(`flowc package` prints one), else its launcher stops with exit 2 naming FLOWC_PACKAGE",
                    severity="warning",
                )
            )
    return found
