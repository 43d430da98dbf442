"""@project: which branch a deployment or run belongs to, and the name it is deployed under.

Metaflow's documented rules (its `@project` docstring), the same for every target
and for `flowc run`:

- `@project(name="fraud")`: the project; lowercase letters, digits and `_`, at most 128.
- the branch: `--branch B` -> `test.B`; `--production` -> `prod`; both -> `prod.B`;
  neither -> `user.<user>` (FLOWC_USER, else the login name; `root` does not count,
  as in Metaflow).  A branch name follows the project name's rule.
- the deployed name (`current.project_flow_name`): `<project>.<branch>.<Flow>`, e.g.
  `fraud.test.b.TrainFlow`; each target fits it to its own naming rule.

The compiler names deployments with it, the runtime fills `current` from the
branch the task is given (command.py's PROJECT_BRANCH_FLAG), the CLI picks the user.
"""

from __future__ import annotations

import re

_NAME = r"[a-z0-9_]{1,128}"  # a project or branch name (Metaflow's rule)
_USER = r"[A-Za-z0-9_.-]{1,64}"  # a login name, as it appears in `user.<user>`
NAME_RULE = re.compile(rf"^{_NAME}$")
USER_RULE = re.compile(rf"^{_USER}$")
BRANCH_RULE = re.compile(rf"^(user\.{_USER}|test\.{_NAME}|prod(\.{_NAME})?)$")
UNKNOWN_USER = "unknown"


class ProjectError(ValueError):
    """A project, branch or user name that cannot name a deployment."""


def name_problem(project: str) -> str | None:
    if NAME_RULE.match(project):
        return None
    return f"@project name {project!r} must be 1-128 lowercase letters, digits and _ (Metaflow's rule)"


def branch_name(branch: str | None, production: bool, user: str | None) -> str:
    """The branch, by Metaflow's rules; ProjectError for a name it cannot take."""
    if branch is not None:
        if not NAME_RULE.match(branch):
            raise ProjectError(f"branch {branch!r} must be 1-128 lowercase letters, digits and _ (Metaflow's rule)")
        return f"{'prod' if production else 'test'}.{branch}"
    if production:
        return "prod"
    user = user or UNKNOWN_USER
    if not USER_RULE.match(user):
        raise ProjectError(f"user name {user!r} cannot name a branch (user.<name>): give --branch NAME")
    return f"user.{user}"


def project_flow_name(project: str, branch: str, flow_name: str) -> str:
    return f"{project}.{branch}.{flow_name}"


def user_from(environ) -> str:
    """FLOWC_USER, else SUDO_USER / USERNAME / USER / LOGNAME, skipping `root` (a container's default user
    says nothing about who deployed: Metaflow skips it too)."""
    for key in ("FLOWC_USER", "SUDO_USER", "USERNAME", "USER", "LOGNAME"):
        value = environ.get(key)
        if value and value != "root":
            return value
    return UNKNOWN_USER


def facts(project: str, branch: str, flow_name: str) -> dict:
    """`current`'s project fields, with Metaflow's names and types."""
    return {
        "project_name": project,
        "branch_name": branch,
        "is_user_branch": branch.startswith("user."),
        "is_production": branch == "prod" or branch.startswith("prod."),
        "project_flow_name": project_flow_name(project, branch, flow_name),
    }
