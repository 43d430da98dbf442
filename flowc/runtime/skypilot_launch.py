"""`python -m flowc.runtime.skypilot_launch`: run one @skypilot task through SkyPilot, wait, map its exit code.

This is what an orchestrator's task runs for a @skypilot step (Argo
container, Airflow pod or subprocess, `flowc run --with skypilot`):

    python -m flowc.runtime.skypilot_launch (--task-yaml TEXT | --task-file PATH) --mode managed|cluster|fresh
        [--cluster NAME] [--autostop-minutes N] [--env NAME=VALUE ...] [--foreach-out PATH]

Modes (the task YAML comes from flowc/compiler/targets/skypilot.py):
- managed: `sky jobs launch` — a managed job: spot preemptions are recovered
  and errors restarted (max_restarts_on_errors) by SkyPilot.
- cluster: `sky exec CLUSTER` on the named cluster; if that cannot run (the
  cluster is not up), `sky launch -c CLUSTER` brings it up and runs the task.
  A task that already ran there finds its DONE and exits at once.
- fresh: `sky launch -c <generated name> --down`: a cluster of its own, torn
  down when the task ends.

Every `sky` call is an argv list; `--env` values reach the task's `envs`, and
the task's `run` only ever references them as "$VAR".  `sky` waits for the job
and exits with SkyPilot's job codes (0 succeeded, 100 failed, 101 not
finished, 102 not found, 103 cancelled); anything else means SkyPilot could not
run it.  For a foreach step the split list is read back from the datastore
into `--foreach-out`, where the orchestrator expects it.

Exit codes: 0 the step succeeded, 1 the step failed or was cancelled,
2 usage error, 3 SkyPilot could not launch or lost track of the job.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shlex
import subprocess
import sys
import tempfile

from flowc.contract.command import EXIT_FAILED, EXIT_LAUNCH, EXIT_OK, EXIT_USAGE

SKY_SUCCEEDED, SKY_FAILED, SKY_NOT_FINISHED, SKY_NOT_FOUND, SKY_CANCELLED = 0, 100, 101, 102, 103
SKY_JOB_CODES = (SKY_SUCCEEDED, SKY_FAILED, SKY_NOT_FINISHED, SKY_NOT_FOUND, SKY_CANCELLED)
MODES = ("managed", "cluster", "fresh")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m flowc.runtime.skypilot_launch", description="Run one SkyPilot task and wait."
    )
    task = p.add_mutually_exclusive_group(required=True)
    task.add_argument("--task-yaml", help="the task's YAML text")
    task.add_argument("--task-file", help="a file holding the task's YAML")
    p.add_argument("--mode", choices=MODES, required=True)
    p.add_argument("--cluster", help="the cluster to reuse (mode cluster)")
    p.add_argument("--autostop-minutes", type=int, default=None)
    p.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--foreach-out", default=None, metavar="PATH")
    p.add_argument("--sky", default=os.environ.get("FLOWC_SKY", "sky"), help="the sky executable (default: sky)")
    return p


def parse_envs(items: list[str]) -> dict[str, str]:
    envs = {}
    for item in items:
        name, eq, value = item.partition("=")
        if not eq or not ENV_NAME.match(name):
            raise ValueError(f"--env expects NAME=VALUE, got {item!r}")
        envs[name] = value
    return envs


def sky_name(*parts: str) -> str:
    """A SkyPilot job or cluster name from run-specific parts: lowercase, '-', at most 40, unique by hash."""
    text = "-".join(parts)
    cleaned = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return f"flowc-{cleaned[:25].strip('-')}-{digest}"


def env_args(envs: dict[str, str]) -> list[str]:
    out = []
    for name, value in envs.items():
        out += ["--env", f"{name}={value}"]
    return out


def commands(args, task_path: str, envs: dict[str, str], job_name: str) -> list[list[str]]:
    """The sky argv lists to try in order: the next runs only if the previous could not run the job."""
    sky = args.sky
    autostop = ["--idle-minutes-to-autostop", str(args.autostop_minutes)] if args.autostop_minutes is not None else []
    if args.mode == "managed":
        return [[sky, "jobs", "launch", "--yes", "--name", job_name, *env_args(envs), task_path]]
    if args.mode == "cluster":
        return [
            [sky, "exec", args.cluster, "--name", job_name, *env_args(envs), task_path],
            [
                sky,
                "launch",
                "--yes",
                "--cluster",
                args.cluster,
                "--name",
                job_name,
                *autostop,
                *env_args(envs),
                task_path,
            ],
        ]
    return [[sky, "launch", "--yes", "--cluster", job_name, "--down", *autostop, *env_args(envs), task_path]]


def run_sky(argv: list[str]) -> int:
    print("flowc.runtime.skypilot_launch: running " + shlex.join(argv), file=sys.stderr, flush=True)  # display only
    try:
        return subprocess.run(argv).returncode
    except FileNotFoundError:
        print(
            f"flowc.runtime.skypilot_launch: error: {argv[0]!r} not found; the launcher image needs the skypilot package",
            file=sys.stderr,
        )
        return -1


def exit_code(sky_code: int, what: str) -> int:
    if sky_code == SKY_SUCCEEDED:
        return EXIT_OK
    if sky_code == SKY_FAILED:
        print(
            f"flowc.runtime.skypilot_launch: {what}: the step failed on SkyPilot (see the job's logs above)",
            file=sys.stderr,
        )
        return EXIT_FAILED
    if sky_code == SKY_CANCELLED:
        print(f"flowc.runtime.skypilot_launch: {what}: the SkyPilot job was cancelled", file=sys.stderr)
        return EXIT_FAILED
    reason = {SKY_NOT_FINISHED: "the job had not finished", SKY_NOT_FOUND: "the job was not found"}.get(
        sky_code, f"sky exited with {sky_code}"
    )
    print(f"flowc.runtime.skypilot_launch: {what}: SkyPilot could not run the task ({reason})", file=sys.stderr)
    return EXIT_LAUNCH


def write_split_list(task_envs: dict, envs: dict, path: str) -> None:
    """Copy the foreach step's split list from the datastore to `path`, as the runtime would have."""
    from flowc.contract.layout import FOREACH, task_key
    from flowc.runtime.datastore import open_datastore

    values = {**task_envs, **envs}
    key = task_key(
        values["FLOWC_FLOW"], values["FLOWC_RUN_ID"], values["FLOWC_STEP"], values.get("FLOWC_TASK_ID") or "0", FOREACH
    )
    text = open_datastore(values["FLOWC_DATASTORE"]).read_text(key)
    if text is None:
        raise FileNotFoundError(f"no split list at {key} in {values['FLOWC_DATASTORE']}")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        envs = parse_envs(args.env)
    except ValueError as exc:
        print(f"flowc.runtime.skypilot_launch: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.mode == "cluster" and not args.cluster:
        print("flowc.runtime.skypilot_launch: error: --mode cluster needs --cluster NAME", file=sys.stderr)
        return EXIT_USAGE
    if args.task_file:
        with open(args.task_file, encoding="utf-8") as f:
            text = f.read()
    else:
        text = args.task_yaml
    import yaml

    task_envs = (yaml.safe_load(text) or {}).get("envs") or {}
    missing = sorted(k for k, v in task_envs.items() if v is None and k not in envs)
    if missing:
        print(f"flowc.runtime.skypilot_launch: error: the task needs --env for {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    what = (
        f"step {task_envs.get('FLOWC_STEP')} task {envs.get('FLOWC_TASK_ID') or task_envs.get('FLOWC_TASK_ID') or '0'}"
    )
    job_name = sky_name(
        str(task_envs.get("FLOWC_FLOW")),
        str(task_envs.get("FLOWC_STEP")),
        envs.get("FLOWC_RUN_ID", ""),
        envs.get("FLOWC_TASK_ID", "0"),
    )
    with tempfile.TemporaryDirectory(prefix="flowc-sky-") as scratch:
        task_path = os.path.join(scratch, "task.yaml")
        with open(task_path, "w", encoding="utf-8") as f:
            f.write(text)
        code = -1
        for command in commands(args, task_path, envs, job_name):
            code = run_sky(command)
            if code in SKY_JOB_CODES:  # the job ran (or SkyPilot knows its fate): no fallback
                break
    result = exit_code(code, what)
    if result == EXIT_OK and args.foreach_out:
        try:
            write_split_list(task_envs, envs, args.foreach_out)
        except Exception as exc:  # noqa: BLE001 - any datastore problem is reported the same way
            print(f"flowc.runtime.skypilot_launch: {what}: cannot read the split list: {exc}", file=sys.stderr)
            return EXIT_FAILED
    return result


if __name__ == "__main__":
    sys.exit(main())
