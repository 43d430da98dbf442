"""Start and inspect runs of a deployed Argo WorkflowTemplate through the Argo Server (hera's `WorkflowsService`).

trigger(request, params, origin_run=None) -> run id
  POST /api/v1/workflows/NS: a Workflow whose spec is a `workflowTemplateRef`
  to the deployed template plus the given arguments.  flowc names the Workflow
  itself (`<template>-<UTC time>-<6 hex>`, within Kubernetes' 63-character
  label limit) because the compiled template's tasks take their run id from
  `{{workflow.name}}`: the printed name is the datastore's run id and what
  `flowc show/logs/status` accept.  Only the parameters given are sent (the
  template's defaults stand for the rest), as text the runtime parses; with
  `origin_run`, the extra argument ORIGIN_RUN_INPUT.

  A value Argo or the kubelet would rewrite before the runtime sees it
  (`{{...}}`, `$(VAR)`, `$$`) is refused, naming the parameter: Argo substitutes
  argument values into the container's args unescaped (docs/argo.md).

status(request, run_id) -> RunView
  GET /api/v1/workflows/NS/RUN: the workflow's phase and message, and each
  Pod node's phase and message (ErrImagePull, Pending: Unschedulable, ...).
"""

from __future__ import annotations

from flowc.contract.command import ORIGIN_RUN_INPUT
from flowc.deploy import DeployError, DeployRequest
from flowc.deploy.argo import DEFAULT_NAMESPACE, _service
from flowc.deploy.run_parameters import load_run_flow, new_run_id, prepare_run
from flowc.deploy.run_view import NodeView, RunView

WORKFLOW_NAME_MAX = 63  # Argo puts the workflow's name in labels, which Kubernetes caps at 63


def deployment(request: DeployRequest, flow) -> tuple[str, str]:
    """(template name, namespace) as the compiled WorkflowTemplate names them."""
    # the target's own naming, so trigger and deploy cannot disagree
    from flowc.compiler.targets.argo import flow_namespace, template_name

    name = template_name(flow, request.options)
    return name, flow_namespace(flow, request.options) or DEFAULT_NAMESPACE


def workflow_manifest(template: str, namespace: str, run_id: str, arguments: dict[str, str]) -> dict:
    """The Workflow that runs `template` with `arguments` (name -> text) under the name `run_id`."""
    spec: dict = {"workflowTemplateRef": {"name": template}}
    if arguments:
        spec["arguments"] = {"parameters": [{"name": k, "value": v} for k, v in arguments.items()]}
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": run_id, "namespace": namespace},
        "spec": spec,
    }


def trigger(request: DeployRequest, params: dict[str, str], origin_run: str | None = None) -> str:
    """Submit a Workflow of the deployed template; returns its name, the run id."""
    if not request.dry_run and not request.argo_server:
        raise DeployError("argo needs the Argo Server's URL: pass --argo-server https://HOST:2746 or set ARGO_SERVER")
    flow, checked = prepare_run(request, params)
    # the kubelet's and Argo's rewriting rules, as the compiler applies them to literals
    from flowc.compiler.lower.kubernetes import kubelet_may_rewrite

    arguments = dict(checked.texts)
    if origin_run is not None:
        arguments[ORIGIN_RUN_INPUT] = origin_run
    for name, text in arguments.items():
        if "{{" in text or kubelet_may_rewrite(text):
            raise DeployError(
                f"--param {name}: {text!r} holds '{{{{', '$(' or '$$', which Argo or the kubelet would rewrite "
                "before the step sees it; Argo cannot pass it through unchanged"
            )
    template, namespace = deployment(request, flow)
    run_id = new_run_id(template, WORKFLOW_NAME_MAX)
    manifest = workflow_manifest(template, namespace, run_id, arguments)
    if request.dry_run:
        import json

        request.echo(
            f"# would create Workflow {namespace}/{run_id}: POST "
            f"{request.argo_server or 'ARGO_SERVER'}/api/v1/workflows/{namespace}\n{json.dumps(manifest, indent=2)}"
        )
        return run_id
    # hera only when something is really sent.
    from hera.exceptions import HeraException
    from hera.workflows import models as m

    service = _service(request, namespace)
    try:
        created = service.create_workflow(
            m.WorkflowCreateRequest(namespace=namespace, workflow=m.Workflow.model_validate(manifest)),
            namespace=namespace,
        )
    except HeraException as exc:
        raise DeployError(f"Argo Server refused Workflow {namespace}/{run_id}: {exc}") from None
    except OSError as exc:  # requests' connection errors derive from OSError
        raise DeployError(f"cannot reach the Argo Server at {service.host}: {exc}") from None
    return created.metadata.name or run_id


def status(request: DeployRequest, run_id: str) -> RunView:
    """The workflow's phase and its Pod nodes' phases; DeployError when it cannot be read."""
    if not request.argo_server:
        raise DeployError("argo needs the Argo Server's URL: pass --argo-server https://HOST:2746 or set ARGO_SERVER")
    flow = load_run_flow(request)
    _, namespace = deployment(request, flow)
    # hera only when the server is really asked.
    from hera.exceptions import HeraException, NotFound

    from flowc.compiler.targets import argo_names as names

    service = _service(request, namespace)
    try:
        workflow = service.get_workflow(run_id, namespace=namespace)
    except NotFound:
        raise DeployError(f"no Workflow {namespace}/{run_id} on the Argo Server at {service.host}") from None
    except HeraException as exc:
        raise DeployError(f"Argo Server refused to read Workflow {namespace}/{run_id}: {exc}") from None
    except OSError as exc:  # requests' connection errors derive from OSError
        raise DeployError(f"cannot reach the Argo Server at {service.host}: {exc}") from None
    step_of_template = {names.step_name(s.name): s.name for s in flow.steps}
    state = workflow.status or None
    nodes = []
    for node in sorted(((state.nodes if state else None) or {}).values(), key=lambda n: n.display_name or ""):
        if node.type != "Pod":
            continue  # DAGs, retry groups and skipped branches are Argo's plumbing; the pods run steps
        nodes.append(
            NodeView(
                node.display_name or node.name,
                step_of_template.get(node.template_name or ""),
                node.phase or "Pending",
                node.message,
            )
        )
    return RunView(
        "argo",
        f"{namespace}/{run_id}",
        (state.phase if state else None) or "Pending",
        state.message if state else None,
        tuple(nodes),
    )
