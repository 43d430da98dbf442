"""@retry on Step Functions: a loop of states that retries a failed Batch job unless its exit code says retrying cannot help.

A Task's `Retry` field cannot see why a job failed: every failed job is
`States.TaskFailed`, so a job that exited with the runtime's usage code (bad
argv, a missing `--env`) or its corrupt-blob code would be retried with backoff
for nothing.  The job description Batch returns, with `Container.ExitCode`, is
the catcher's `Cause` (a JSON string), so the retry is written out as states:

    S-first-attempt   Pass    $.retry = {"attempt": 0}
    S                 Task    --attempt from $.retry.attempt; Catch States.TaskFailed -> S-exit-code,
                              anything else (a timeout) -> S-failed, as before
    S-exit-code       Pass    $.retry = {"attempt", "job": States.StringToJson(Cause)}
    S-retryable       Choice  exit code in NOT_RETRIED -> S-not-retried (Fail); no exit code (the host
                              went away) or another -> S-attempts-left
    S-attempts-left   Choice  attempt < times -> S-wait, else S-failed
    S-wait            Wait    the @retry delay, exactly (omitted when it is 0)
    S-next-attempt    Pass    $.retry.attempt + 1 -> S

The attempt number travels in the state, so every target's `--attempt N
--max-attempts M` means the same, and a Map iteration carries its own.  A
managed @skypilot step has no loop: SkyPilot restarts it (`max_restarts_on_errors`).
"""

from __future__ import annotations

from flowc.compiler.ir import Step
from flowc.compiler.targets import asl, step_functions_skypilot
from flowc.contract.command import EXIT_CORRUPT, EXIT_USAGE, NOT_RETRIED

ATTEMPT_PATH = "$.retry.attempt"
# The loop's states are named after the step: "<step><suffix>" (flowc diff folds them back into the step).
FIRST_ATTEMPT, EXIT_CODE, RETRYABLE, ATTEMPTS_LEFT = "-first-attempt", "-exit-code", "-retryable", "-attempts-left"
WAIT, NEXT_ATTEMPT, NOT_RETRIED_STATE = "-wait", "-next-attempt", "-not-retried"
LOOP_SUFFIXES = (FIRST_ATTEMPT, EXIT_CODE, RETRYABLE, ATTEMPTS_LEFT, WAIT, NEXT_ATTEMPT, NOT_RETRIED_STATE)
EXIT_CODE_PATH = "$.retry.job.Container.ExitCode"
_WHY = {EXIT_USAGE: "usage", EXIT_CORRUPT: "corrupt blob"}


def has_retry_loop(step: Step) -> bool:
    """A step with @retry has the loop, unless SkyPilot restarts it (a managed job): one retry, not two nested."""
    return step.retry is not None and step.retry.times > 0 and not step_functions_skypilot.retried_by_skypilot(step)


def first_attempt_name(step: Step) -> str:
    return asl.safe_name(step.name + FIRST_ATTEMPT)


def task_catch(step: Step, failed_state: str) -> list[dict]:
    """The Task's catchers: a failed job enters the loop, anything else (a timeout) fails the step."""
    return [asl.catch_task_failed("$.retry.failure", _name(step, EXIT_CODE)), *asl.catch_all(failed_state)]


def loop_states(step: Step, task_state: str, failed_state: str) -> dict[str, dict]:
    """Every state of the loop but the Task itself, in the order they run."""
    retryable, attempts_left = _name(step, RETRYABLE), _name(step, ATTEMPTS_LEFT)
    next_attempt, not_retried = _name(step, NEXT_ATTEMPT), _name(step, NOT_RETRIED_STATE)
    delay = step.retry.delay_seconds
    states = {
        first_attempt_name(step): {
            "Type": "Pass",
            "Result": {"attempt": 0},
            "ResultPath": "$.retry",
            "Next": task_state,
        },
        _name(step, EXIT_CODE): asl.pass_state(
            {"attempt.$": ATTEMPT_PATH, "job.$": "States.StringToJson($.retry.failure.Cause)"},
            retryable,
            result_path="$.retry",
        ),
        # Choice rules are tried in order, so a job without an exit code never reaches the comparisons.
        retryable: asl.choice(
            [{"Not": {"Variable": EXIT_CODE_PATH, "IsPresent": True}, "Next": attempts_left}]
            + [{"Variable": EXIT_CODE_PATH, "NumericEquals": code, "Next": not_retried} for code in NOT_RETRIED],
            attempts_left,
        ),
        attempts_left: asl.choice(
            [
                {
                    "Variable": ATTEMPT_PATH,
                    "NumericLessThan": step.retry.times,
                    "Next": _name(step, WAIT) if delay else next_attempt,
                }
            ],
            failed_state,
        ),
    }
    if delay:
        states[_name(step, WAIT)] = asl.wait(delay, next_attempt)
    states[next_attempt] = asl.pass_state(
        {"attempt.$": f"States.MathAdd({ATTEMPT_PATH}, 1)"}, task_state, result_path="$.retry"
    )
    codes = ", ".join(f"{code}: {_WHY.get(code, 'not retried')}" for code in NOT_RETRIED)
    states[not_retried] = asl.fail(
        "StepFailed", f"{step.name} failed with an exit code no retry can change ({codes}); not retried, see its log"
    )
    return states


def _name(step: Step, suffix: str) -> str:
    return asl.safe_name(step.name + suffix)
