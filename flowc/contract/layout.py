"""The datastore's layout: every key the runtime, runner, client, deployers and compiler use.

    ROOT/<Flow>/data/<sha256>                          blobs, content-addressed
    ROOT/<Flow>/packages/<sha256>.tar.gz               code packages
    ROOT/<Flow>/runs/<run>/run.json                    run record (status, parameters, started)
    ROOT/<Flow>/runs/<run>/<step>/<task>/meta.json     artifacts {name: sha}, parents, attempts
    ROOT/<Flow>/runs/<run>/<step>/<task>/foreach.json  split list: JSON array of child task ids
    ROOT/<Flow>/runs/<run>/<step>/<task>/branch.json  a conditional's choice: {"value": ..., "next": "<step>"}
    ROOT/<Flow>/runs/<run>/<step>/<task>/DONE          written last: a task is done iff present
    ROOT/<Flow>/runs/<run>/<step>/<task>/logs/attempt-<n>.{stdout,stderr,json}
    ROOT/<Flow>/runs/<run>/<step>/<task>/cards/<id or type>.html   @card pages, written before DONE
    ROOT/<Flow>/s3/<run>/<key>                         objects put through metaflow.S3(run=self)
    ROOT/envs/<lock sha256>/<platform>.json            which archive holds that locked environment, built for it
    ROOT/envs/<sha256>.tar.gz                          a built environment (site/ + flowc-environment.json)

Environments are not under <Flow>: the runtime must put one on sys.path
before it imports the flow (which is what names the flow), and being
content-addressed, one archive can serve every flow that locks the same set.

A recursive step's tasks are named `<task>-<iteration>` (flowc/contract/ids.py).
`branch.json` is plain JSON (never framed), written before DONE, so an
orchestrator can read the choice straight from the datastore (Step
Functions' `aws-sdk:s3:getObject`), as well as from `--branch-out`.

Keys are '/'-separated paths relative to ROOT.  Each name is spelled here
once: a writer and a reader that spelled it separately could drift apart and
a finished task would look unfinished.
"""

from __future__ import annotations

DATA = "data"
PACKAGES = "packages"
RUNS = "runs"
LOGS = "logs"

DONE = "DONE"
META = "meta.json"
FOREACH = "foreach.json"
BRANCH = "branch.json"  # a switch task's choice: {"value": <condition value>, "next": "<chosen step>"}
BRANCH_VALUE, BRANCH_NEXT = "value", "next"  # its two keys
RUN_RECORD = "run.json"
PACKAGE_SUFFIX = ".tar.gz"
ENVS = "envs"
ENV_MANIFEST = "flowc-environment.json"  # in an environment archive: {"lock": sha, "python": "3.12", "platform": ...}
ENV_SITE = "site"  # in an environment archive: the installed packages, a sys.path entry

ATTEMPT_PREFIX = "attempt-"
STDOUT, STDERR, ATTEMPT_RECORD = "stdout", "stderr", "json"  # the suffixes of an attempt's log files


def blob_key(flow: str, sha: str) -> str:
    return f"{flow}/{DATA}/{sha}"


def package_key(flow: str, sha: str) -> str:
    return f"{flow}/{PACKAGES}/{sha}{PACKAGE_SUFFIX}"


def environment_pointer_key(lock_sha: str, platform: str) -> str:
    """The record naming the archive of the environment locked as `lock_sha`, built for `platform`."""
    return f"{ENVS}/{lock_sha}/{platform}.json"


def environment_archive_key(archive_sha: str) -> str:
    return f"{ENVS}/{archive_sha}{PACKAGE_SUFFIX}"


def runs_key(flow: str) -> str:
    """The folder holding one folder per run of `flow`."""
    return f"{flow}/{RUNS}"


def run_key(flow: str, run_id: str, step: str = "") -> str:
    """The run's folder, or one step's folder in it."""
    base = f"{flow}/{RUNS}/{run_id}"
    return f"{base}/{step}" if step else base


def run_record_key(flow: str, run_id: str) -> str:
    return f"{run_key(flow, run_id)}/{RUN_RECORD}"


def task_key_parts(flow: str, run_id, step: str, task_id, name: str = "") -> tuple:
    """The task key as pieces, so a compiler can put run-time placeholders where the run and task ids go.

    `run_id` and `task_id` are returned as given (strings here, placeholders
    in a compiler); the other pieces are strings.
    """
    parts = (f"{flow}/{RUNS}/", run_id, f"/{step}/", task_id)
    return parts + (f"/{name}",) if name else parts


def task_key(flow: str, run_id: str, step: str, task_id: str, name: str = "") -> str:
    """The task's folder, or the file `name` (DONE, META, FOREACH, BRANCH) in it."""
    return "".join(task_key_parts(flow, run_id, step, task_id, name))


def logs_key(task: str) -> str:
    """The logs folder of the task whose key is `task`."""
    return f"{task}/{LOGS}"


def attempt_log_key(task: str, attempt: int, suffix: str) -> str:
    """An attempt's log file (suffix STDOUT, STDERR or ATTEMPT_RECORD) of the task whose key is `task`."""
    return f"{task}/{LOGS}/{ATTEMPT_PREFIX}{attempt}.{suffix}"


def attempt_of_log_name(name: str) -> int | None:
    """The attempt number of a file name in a logs folder ('attempt-2.stdout' -> 2), else None."""
    if not name.startswith(ATTEMPT_PREFIX):
        return None
    number = name[len(ATTEMPT_PREFIX) :].partition(".")[0]
    return int(number) if number.isdigit() else None


CARDS = "cards"  # a task's card pages (HTML): the runtime writes them before DONE; `flowc report` links them
CARD_SUFFIX = ".html"


def cards_key(task: str) -> str:
    """The folder of card pages of the task whose key is `task`."""
    return f"{task}/{CARDS}"


def card_page_key(task: str, page: str) -> str:
    """One card page of the task whose key is `task`: `page` is the card's id, else its type."""
    return f"{task}/{CARDS}/{page}{CARD_SUFFIX}"


# metaflow.S3(run=self): the objects a run puts.  Beside runs/, not inside the run's folder, whose
# children are read as the run's steps.
S3_FOLDER = "s3"


def run_s3_key(flow: str, run_id: str) -> str:
    """The folder `S3(run=self)` is rooted at: ROOT/<Flow>/s3/<run>."""
    return f"{flow}/{S3_FOLDER}/{run_id}"
