"""The deployment a flow's @project and the --branch / --production options name (flowc/contract/project.py).

Every target asks here for the name it deploys under and the branch its tasks
run in, so Argo, Step Functions and Airflow agree on `project.branch.Flow`.
"""

from __future__ import annotations

from flowc.compiler.diagnostics import Diagnostic
from flowc.compiler.ir import FlowGraph
from flowc.compiler.options import Options
from flowc.contract import project as rules


def branch(flow: FlowGraph, options: Options) -> str | None:
    """The branch the flow is deployed in (None without @project); ProjectError for a bad name."""
    if flow.project is None:
        return None
    return rules.branch_name(options.branch, bool(options.production), options.user)


def deployed_name(flow: FlowGraph, options: Options) -> str:
    """`project.branch.Flow` with @project (Metaflow's project_flow_name), else the flow's name."""
    found = branch(flow, options)
    return flow.name if found is None else rules.project_flow_name(flow.project, found, flow.name)


def upstream_name(flow: FlowGraph, upstream, options: Options) -> str:
    """A @trigger_on_finish upstream's deployed name: `project.branch.Flow` in the branch this deployment is
    in (Metaflow's rule: a project's flows trigger each other within one branch), else the flow's name."""
    if upstream.project is None:
        return upstream.flow
    own = rules.branch_name(options.branch, bool(options.production), options.user)
    return rules.project_flow_name(upstream.project, own, upstream.flow)


def problems(flow: FlowGraph, options: Options, names_deployment: bool = True) -> list[Diagnostic]:
    """A bad project or branch name, --branch/--production without @project, --name with @project."""
    use = next((d for d in flow.decorators if d.name == "project"), None)
    where = use.location if use is not None else flow.location
    if flow.project is None:
        given = [flag for flag, value in (("--branch", options.branch), ("--production", options.production)) if value]
        if given:
            return [
                Diagnostic(
                    where,
                    f"{' and '.join(given)} {'name' if len(given) > 1 else 'names'} a @project's deployment, "
                    f"and {flow.name} has no @project",
                )
            ]
        return []
    found = [rules.name_problem(flow.project)]
    try:
        rules.branch_name(options.branch, bool(options.production), options.user)
    except rules.ProjectError as exc:
        found.append(str(exc))
    if options.name and names_deployment:
        found.append("--name is not read for a @project flow (its name is project.branch.Flow): use --branch")
    return [Diagnostic(where, text) for text in found if text]
