"""Deploy to Argo Workflows through the Argo Server's API, with hera's `WorkflowsService`.

deploy(request):
  1. package the flow's code to the datastore (content-addressed, flowc.deploy.package);
  2. compile again with the package's URL, so each step runs the code it was deployed with;
  3. create the WorkflowTemplate, or update it (with its resourceVersion) when it exists;
  4. the same for the CronWorkflow of a flow with @schedule.

The server is `--argo-server URL` (or ARGO_SERVER), the token ARGO_TOKEN.  The
namespace is the manifest's (`--namespace` or the steps' @kubernetes), else
`default`.  With `request.dry_run` nothing is sent: each request that would be
made is printed with the manifest it carries.
"""

from __future__ import annotations

import dataclasses

from flowc.deploy import DeployError, DeployRequest, package_code

DEFAULT_NAMESPACE = "default"
PACKAGE_SHA_ANNOTATION = "flowc.dev/package-sha"


def deploy(request: DeployRequest) -> str:
    """Package the code and create or update the WorkflowTemplate (and CronWorkflow); returns the template's name."""
    from flowc.compiler.diagnostics import CompileError
    from flowc.compiler.targets import argo as target

    flow = request.artifact.flow
    if not request.dry_run and not request.argo_server:
        raise DeployError("argo needs the Argo Server's URL: pass --argo-server https://HOST:2746 or set ARGO_SERVER")
    package_url, package_sha = package_code(request)
    options = dataclasses.replace(request.options, package_url=package_url, package_sha=package_sha)
    problems = [d for d in target.unsupported(flow, options) if d.is_error]
    if problems:
        raise DeployError(str(CompileError(problems)))
    docs = [dict(doc) for doc in target.documents(flow, options)]
    for doc in docs:
        doc["metadata"] = dict(doc["metadata"])
        doc["metadata"]["annotations"] = {**doc["metadata"].get("annotations", {}), PACKAGE_SHA_ANNOTATION: package_sha}
    namespace = docs[0]["metadata"].get("namespace") or DEFAULT_NAMESPACE
    if request.dry_run:
        for doc in docs:
            _show(request, doc, namespace)
        return docs[0]["metadata"]["name"]
    service = _service(request, namespace)
    for doc in docs:
        _create_or_update(service, doc, namespace, request.echo)
    return docs[0]["metadata"]["name"]


def _show(request: DeployRequest, doc: dict, namespace: str) -> None:
    from flowc.compiler.targets.argo import dump_yaml

    collection = "workflow-templates" if doc["kind"] == "WorkflowTemplate" else "cron-workflows"
    request.echo(f"# would create or update {doc['kind']} {doc['metadata']['name']} in namespace {namespace}: "
                 f"POST (or PUT when it exists) {request.argo_server or 'ARGO_SERVER'}/api/v1/{collection}/{namespace}")
    request.echo("---\n" + dump_yaml(doc).rstrip("\n"))


def _service(request: DeployRequest, namespace: str):
    from hera.workflows import WorkflowsService

    server = request.argo_server.rstrip("/")
    if not server.startswith(("http://", "https://")):
        raise DeployError(f"--argo-server {server!r} needs a scheme: https://HOST:2746")
    return WorkflowsService(host=server, token=request.argo_token, namespace=namespace,
                            verify_ssl=not server.startswith("http://"))


def _create_or_update(service, doc: dict, namespace: str, echo) -> None:
    """GET the object; POST it when absent, else PUT it with the current resourceVersion."""
    from hera.exceptions import HeraException, NotFound
    from hera.workflows import models as m

    kind, name = doc["kind"], doc["metadata"]["name"]
    is_template = kind == "WorkflowTemplate"
    model = (m.WorkflowTemplate if is_template else m.CronWorkflow).model_validate(doc)
    get = service.get_workflow_template if is_template else service.get_cron_workflow
    try:
        try:
            existing = get(name, namespace=namespace)
        except NotFound:
            existing = None
        if existing is None:
            if is_template:
                service.create_workflow_template(m.WorkflowTemplateCreateRequest(namespace=namespace, template=model),
                                                 namespace=namespace)
            else:
                service.create_cron_workflow(m.CreateCronWorkflowRequest(namespace=namespace, cron_workflow=model),
                                             namespace=namespace)
            echo(f"created {kind} {namespace}/{name}")
            return
        model.metadata.resource_version = existing.metadata.resource_version
        if is_template:
            service.update_workflow_template(
                name, m.WorkflowTemplateUpdateRequest(name=name, namespace=namespace, template=model), namespace=namespace)
        else:
            service.update_cron_workflow(
                name, m.UpdateCronWorkflowRequest(name=name, namespace=namespace, cron_workflow=model), namespace=namespace)
        echo(f"updated {kind} {namespace}/{name}")
    except HeraException as exc:
        raise DeployError(f"Argo Server refused {kind} {namespace}/{name}: {exc}") from None
    except OSError as exc:  # requests' connection errors derive from OSError
        raise DeployError(f"cannot reach the Argo Server at {service.host}: {exc}") from None
