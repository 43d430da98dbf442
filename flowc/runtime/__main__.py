"""`python -m flowc.runtime step FLOW_FILE STEP --run-id RUN --task-id TASK --datastore ROOT ...`

The command and its exit codes are flowc/contract/command.py's: 0 the task
succeeded (or @catch caught its exception), 1 the step failed (one line on
stderr names step and task), 2 usage error (also: the step's environment
was not built for this platform or Python), 4 a corrupt environment archive.
"""

from __future__ import annotations

import argparse
import json
import sys

from flowc.contract.project import BRANCH_RULE
from flowc.contract import command as c
from flowc.contract.command import EXIT_FAILED, EXIT_USAGE
from flowc.contract.ids import is_run_id, is_task_id
from flowc.runtime.reuse import parse_origin


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog=f"python -m {c.RUNTIME_MODULE}", description="Run one task of a flow.")
    commands = top.add_subparsers(dest="command", required=True)
    step = commands.add_parser(c.STEP_COMMAND, help="run one task of a step")
    step.add_argument("flow_file")
    step.add_argument("step")
    step.add_argument(c.RUN_ID_FLAG, dest="run_id", required=True)
    step.add_argument(c.TASK_ID_FLAG, dest="task_id", required=True)
    step.add_argument(c.DATASTORE_FLAG, dest="datastore", required=True)
    step.add_argument(c.PARAM_FLAG, dest="param", action="append", default=[], metavar="NAME=VALUE")
    step.add_argument(c.ATTEMPT_FLAG, dest="attempt", type=int, default=0)
    step.add_argument(c.MAX_ATTEMPTS_FLAG, dest="max_attempts", type=int, default=None)
    step.add_argument(c.FOREACH_OUT_FLAG, dest="foreach_out", default=None)
    step.add_argument(c.BRANCH_OUT_FLAG, dest="branch_out", default=None)
    step.add_argument(c.ITERATION_FLAG, dest="iteration", type=int, default=None)
    step.add_argument(c.NEXT_ITERATION_OUT_FLAG, dest="next_iteration_out", default=None, metavar="PATH")
    step.add_argument(c.PACKAGE_FLAG, dest="package", default=None, metavar="URL")
    step.add_argument(c.ENVIRONMENT_FLAG, dest="environment", default=None, metavar="SHA")
    step.add_argument(c.CONFIG_VALUES_FLAG, dest="config_values", default=None, metavar="B64")
    step.add_argument(c.PROJECT_BRANCH_FLAG, dest="project_branch", default=None, metavar="BRANCH")
    step.add_argument(c.ORIGIN_RUN_FLAG, dest="origin_run", default="", metavar="RUN[/STEP]")
    step.add_argument(
        c.DECORATOR_FLAG,
        dest="decorator",
        action="append",
        default=[],
        metavar="JSON",
        help='a decorator attached with --with, e.g. {"catch": {"var": "err"}}',
    )
    return top


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    if not is_task_id(args.task_id):
        print(f"flowc.runtime: error: bad {c.TASK_ID_FLAG} {args.task_id!r} (expected 0, 3 or 3.7)", file=sys.stderr)
        return EXIT_USAGE
    if not is_run_id(args.run_id):
        print(
            f"flowc.runtime: error: bad {c.RUN_ID_FLAG} {args.run_id!r} (letters, digits, _ . : - and not "
            "starting with '.')",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        origin = parse_origin(args.origin_run, args.run_id)
    except ValueError as exc:
        print(f"flowc.runtime: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.iteration is not None and args.iteration < 0:
        print(f"flowc.runtime: error: {c.ITERATION_FLAG} must be >= 0", file=sys.stderr)
        return EXIT_USAGE
    if args.next_iteration_out is not None:
        if args.iteration is None:
            print(f"flowc.runtime: error: {c.NEXT_ITERATION_OUT_FLAG} needs {c.ITERATION_FLAG}", file=sys.stderr)
            return EXIT_USAGE
        from flowc.runtime.branching import write_next_iteration_out

        # Written before the task runs: the number does not depend on it, and the orchestrator reads it only
        # when the task succeeded and chose itself.
        write_next_iteration_out(args.next_iteration_out, args.iteration)
    if args.attempt < 0 or (args.max_attempts is not None and args.max_attempts < 1):
        print(f"flowc.runtime: error: {c.ATTEMPT_FLAG} must be >= 0 and {c.MAX_ATTEMPTS_FLAG} >= 1", file=sys.stderr)
        return EXIT_USAGE
    params = {}
    for item in args.param:
        name, eq, value = item.partition("=")
        if not eq or not name:
            print(f"flowc.runtime: error: {c.PARAM_FLAG} expects NAME=VALUE, got {item!r}", file=sys.stderr)
            return EXIT_USAGE
        params[name] = value
    decorators = {}
    for item in args.decorator:
        try:
            attached = json.loads(item)
            if not all(isinstance(v, dict) for v in attached.values()):
                raise ValueError(item)
            decorators.update(attached)
        except (ValueError, TypeError, AttributeError):
            print(f"flowc.runtime: error: {c.DECORATOR_FLAG} expects a JSON object, got {item!r}", file=sys.stderr)
            return EXIT_USAGE
    try:
        configs = c.decode_config_values(args.config_values) if args.config_values else {}
    except ValueError as exc:
        print(f"flowc.runtime: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.project_branch is not None and not BRANCH_RULE.match(args.project_branch):
        print(
            f"flowc.runtime: error: bad {c.PROJECT_BRANCH_FLAG} {args.project_branch!r} "
            "(user.NAME, test.NAME, prod or prod.NAME)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.package:
        from flowc.runtime.bootstrap import enter_package

        try:
            enter_package(args.package)
        except Exception as exc:  # noqa: BLE001 - any fetch problem is reported the same way
            print(f"flowc.runtime: error: cannot use code package {args.package}: {exc}", file=sys.stderr)
            return EXIT_FAILED
    if args.environment:  # after the package (which may bring this runtime), before the flow is imported
        from flowc.runtime.environment import EnvironmentUnavailable, enter_environment

        try:
            enter_environment(args.datastore, args.environment)
        except EnvironmentUnavailable as exc:
            print(f"flowc.runtime: error: cannot use the step's environment: {exc}", file=sys.stderr)
            return exc.exit_code
    from flowc.runtime.secrets import export_secret_sources

    if (failed := export_secret_sources()) is not None:
        return failed
    from flowc.runtime.task import TaskRequest, run_task

    request = TaskRequest(
        flow_file=args.flow_file,
        step=args.step,
        run_id=args.run_id,
        task_id=args.task_id,
        datastore=args.datastore,
        params=params,
        attempt=args.attempt,
        max_attempts=args.max_attempts,
        foreach_out=args.foreach_out,
        branch_out=args.branch_out,
        iteration=args.iteration,
        package=args.package,
        decorators=decorators,
        configs=configs,
        project_branch=args.project_branch,
        origin=origin,
    )
    return run_task(request)


if __name__ == "__main__":
    sys.exit(main())
