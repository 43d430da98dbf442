"""Conditional branches and recursive steps on Step Functions (issue 15): read the choice, then a Choice state.

A switch's Batch job cannot hand its choice to the state machine: the result of
`batch:submitJob.sync` is Batch's job description, which has no output of the
step's.  The runtime writes the choice to the datastore (`branch.json`,
docs/conditionals.md), so after the switch's Task the state machine reads it:

    S               Task    the switch's job (inside its retry loop, if any)
    S-read-branch   Task    aws-sdk:s3:getObject on ROOT/<Flow>/runs/<run>/S/<task>/branch.json;
                            ResultSelector States.StringToJson($.Body) -> $.branch.chosen
    S-choice        Choice  one rule per distinct step: $.branch.chosen.next == "<step>" -> its first state;
                            Default -> S-no-branch (Fail)

Two transitions per switch beyond its Task (one Task and one Choice: the
fewest, since the choice must come from S3).  The rules compare the step the
runtime chose, not the value: the runtime has already checked the value
against the map (an unknown one fails the job with exit 2 and the allowed
values), so several values naming one step share one rule and no user value
enters the definition.  A switch whose values all name one step needs no
choice: its Task goes straight on.

A recursive step is a loop, its iteration counter kept in the state:

    S-first-iteration Pass  $.recursion = {"iteration": 0}
    S .. S-choice           as above; the job's --iteration and the key's task T-N from $.recursion.iteration
    S-next-iteration  Pass  $.recursion.iteration + 1 -> S's entry (its retry loop's: attempts restart at 0)

The runtime fails the iteration that would pass @recursion(max=N) (exit 2, not
retried), so the loop needs no bound of its own.  An exit into the join that
closes a Map iteration or a Parallel branch (a Choice cannot end a branch) is
a Succeed state `S-done`.
"""

from __future__ import annotations

from flowc.compiler.ir import Step
from flowc.compiler.targets import asl

ITERATION_PATH = "$.recursion.iteration"
CHOSEN_STEP_PATH = "$.branch.chosen.next"
READ_BRANCH, CHOICE, NO_BRANCH, DONE = "-read-branch", "-choice", "-no-branch", "-done"
FIRST_ITERATION, NEXT_ITERATION = "-first-iteration", "-next-iteration"
SWITCH_SUFFIXES = (READ_BRANCH, CHOICE, NO_BRANCH, DONE, FIRST_ITERATION, NEXT_ITERATION)
# A read that fails for a moment (throttling, a network fault) is tried again; the object is written before DONE.
READ_RETRY = [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 2}]


def name(step: Step, suffix: str) -> str:
    return asl.safe_name(step.name + suffix)


def needs_choice(step: Step) -> bool:
    """A recursive step, or a switch with two or more distinct steps: the state machine must read the choice."""
    return step.is_recursive or len(step.branches) > 1


def entry_name(step: Step) -> str:
    """The first state of a recursive step: its counter's Pass."""
    return name(step, FIRST_ITERATION)


def first_iteration(step: Step, iteration_entry: str) -> dict[str, dict]:
    return {
        entry_name(step): {
            "Type": "Pass",
            "Result": {"iteration": 0},
            "ResultPath": "$.recursion",
            "Next": iteration_entry,
        }
    }


def read_and_choose(
    step: Step, *, bucket: str, key_expression: str, targets: dict[str, str], iteration_entry: str | None
) -> dict[str, dict]:
    """The states after the switch's Task: read branch.json, choose.

    `targets` maps each step the switch may choose (but itself) to the state that starts it;
    `iteration_entry` is where the next iteration of a recursive step starts."""
    choice = name(step, CHOICE)
    states: dict[str, dict] = {
        name(step, READ_BRANCH): {
            "Type": "Task",
            "Resource": asl.S3_GET_OBJECT_SDK,
            "Parameters": {"Bucket": bucket, "Key.$": key_expression},
            "ResultSelector": {"chosen.$": "States.StringToJson($.Body)"},
            "ResultPath": "$.branch",
            "Retry": READ_RETRY,
            "Next": choice,
        }
    }
    rules = []
    for target in step.next:
        then = name(step, NEXT_ITERATION) if target == step.name else targets[target]
        rules.append({"Variable": CHOSEN_STEP_PATH, "StringEquals": target, "Next": then})
    states[choice] = asl.choice(rules, name(step, NO_BRANCH))
    if step.is_recursive:
        states[name(step, NEXT_ITERATION)] = asl.pass_state(
            {"iteration.$": f"States.MathAdd({ITERATION_PATH}, 1)"}, iteration_entry, result_path="$.recursion"
        )
    allowed = ", ".join(repr(s) for s in step.next)
    states[name(step, NO_BRANCH)] = asl.fail(
        "NoBranch",
        f"conditional step {step.name!r} chose a step this state machine does not know (its branch.json "
        f"names another); allowed steps: {allowed}",
    )
    return states


def done_state(step: Step, output_empty: bool) -> dict[str, dict]:
    """A Succeed state for a switch whose chosen step is the end of its branch (a Choice cannot end one)."""
    state: dict = {"Type": "Succeed"}
    if output_empty:
        state["OutputPath"] = None
    return {name(step, DONE): state}
