"""Deploy to Argo Workflows through the Argo Server's API, with hera's `WorkflowsService`.

deploy(request):
  1. compile with the code package's URL and upload the package (flowc.deploy.compile_for_deploy):
     the manifests are `flowc compile --target argo --package-url URL`, byte for byte;
  2. create the WorkflowTemplate, or update it (with its resourceVersion) when it exists;
  3. the same for the CronWorkflow of a flow with @schedule, and for the Argo Events
     Sensor of a flow with @trigger/@trigger_on_finish (the Argo Server serves
     Sensors at /api/v1/sensors when Argo Events is installed; sent as JSON, see
     _put_sensor; the EventSources it listens to are the cluster's, docs/events.md).

The server is `--argo-server URL` (or FLOWC_ARGO_SERVER, `argo-server` in
pyproject, ARGO_SERVER), the token ARGO_TOKEN.  The namespace is the
manifest's (`--namespace` or the steps' @kubernetes), else `default`.  With
`request.dry_run` nothing is sent: each request that would be made is printed
with the manifest it carries.
"""

from __future__ import annotations

import json

from flowc.deploy import DeployError, DeployRequest, compile_for_deploy

DEFAULT_NAMESPACE = "default"


def deploy(request: DeployRequest) -> str:
    """Package the code and create or update the WorkflowTemplate (and CronWorkflow); returns the template's name."""
    if not request.dry_run and not request.argo_server:
        raise DeployError("argo needs the Argo Server's URL: pass --argo-server https://HOST:2746 or set ARGO_SERVER")
    docs = manifests(compile_for_deploy(request).artifact.text)
    namespace = docs[0]["metadata"].get("namespace") or DEFAULT_NAMESPACE
    if request.dry_run:
        for doc in docs:
            _show(request, doc, namespace)
        return docs[0]["metadata"]["name"]
    service = _service(request, namespace)
    for doc in docs:
        if doc["kind"] == "Sensor":
            _put_sensor(request, doc, namespace)
        else:
            _create_or_update(service, doc, namespace, request.echo)
    return docs[0]["metadata"]["name"]


def manifests(text: str) -> list[dict]:
    """The compiled text back as manifests: YAML documents, or JSON (one object or a `List`)."""
    if text.lstrip().startswith("{"):
        body = json.loads(text)
        return body["items"] if body.get("kind") == "List" else [body]
    # yaml only when deploying: flowc's other commands never load it.
    import yaml

    return [doc for doc in yaml.safe_load_all(text) if doc is not None]


def _show(request: DeployRequest, doc: dict, namespace: str) -> None:
    # The target's own dumper (yaml, loaded only here), so the shown manifest reads like `flowc compile`'s.
    from flowc.compiler.lower.yaml import dump_yaml

    collection = {"WorkflowTemplate": "workflow-templates", "CronWorkflow": "cron-workflows", "Sensor": "sensors"}[
        doc["kind"]
    ]
    request.echo(
        f"# would create or update {doc['kind']} {doc['metadata']['name']} in namespace {namespace}: "
        f"POST (or PUT when it exists) {request.argo_server or 'ARGO_SERVER'}/api/v1/{collection}/{namespace}"
    )
    request.echo("---\n" + dump_yaml(doc).rstrip("\n"))


def _service(request: DeployRequest, namespace: str):
    # hera (~300 pydantic models) only when something is really sent.
    from hera.workflows import WorkflowsService

    server = request.argo_server.rstrip("/")
    if not server.startswith(("http://", "https://")):
        raise DeployError(f"--argo-server {server!r} needs a scheme: https://HOST:2746")
    return WorkflowsService(
        host=server, token=request.argo_token, namespace=namespace, verify_ssl=not server.startswith("http://")
    )


def _put_sensor(request: DeployRequest, doc: dict, namespace: str) -> None:
    """GET the Sensor; POST it when absent, else PUT it with the current resourceVersion.

    Plain JSON over the standard library: hera 7.1's events models type the trigger's `source.resource`
    as an encoded string, so a Sensor does not round-trip through them.
    """
    import urllib.error
    import urllib.request

    base = f"{request.argo_server.rstrip('/')}/api/v1/sensors/{namespace}"
    name = doc["metadata"]["name"]

    def call(method: str, url: str, body: dict | None = None) -> dict | None:
        headers = {"Content-Type": "application/json"}
        if request.argo_token:
            token = request.argo_token
            headers["Authorization"] = token if token.startswith("Bearer ") else f"Bearer {token}"
        data = None if body is None else json.dumps(body).encode()
        try:
            with urllib.request.urlopen(urllib.request.Request(url, data, headers, method=method), timeout=30) as r:
                return json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as exc:
            if method == "GET" and exc.code == 404:
                return None
            message = exc.read()[:300].decode(errors="replace")
            raise DeployError(f"Argo Server refused Sensor {namespace}/{name}: HTTP {exc.code}: {message}") from None
        except OSError as exc:
            raise DeployError(f"cannot reach the Argo Server at {request.argo_server}: {exc}") from None

    existing = call("GET", f"{base}/{name}")
    if existing is None:
        call("POST", base, {"namespace": namespace, "sensor": doc})
        request.echo(f"created Sensor {namespace}/{name}")
        return
    sent = json.loads(json.dumps(doc))
    sent["metadata"]["resourceVersion"] = existing.get("metadata", {}).get("resourceVersion")
    call("PUT", f"{base}/{name}", {"name": name, "namespace": namespace, "sensor": sent})
    request.echo(f"updated Sensor {namespace}/{name}")


def _create_or_update(service, doc: dict, namespace: str, echo) -> None:
    """GET the object; POST it when absent, else PUT it with the current resourceVersion."""
    # hera only when something is really sent.
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
                service.create_workflow_template(
                    m.WorkflowTemplateCreateRequest(namespace=namespace, template=model), namespace=namespace
                )
            else:
                service.create_cron_workflow(
                    m.CreateCronWorkflowRequest(namespace=namespace, cron_workflow=model), namespace=namespace
                )
            echo(f"created {kind} {namespace}/{name}")
            return
        model.metadata.resource_version = existing.metadata.resource_version
        if is_template:
            service.update_workflow_template(
                name,
                m.WorkflowTemplateUpdateRequest(name=name, namespace=namespace, template=model),
                namespace=namespace,
            )
        else:
            service.update_cron_workflow(
                name,
                m.UpdateCronWorkflowRequest(name=name, namespace=namespace, cron_workflow=model),
                namespace=namespace,
            )
        echo(f"updated {kind} {namespace}/{name}")
    except HeraException as exc:
        raise DeployError(f"Argo Server refused {kind} {namespace}/{name}: {exc}") from None
    except OSError as exc:  # requests' connection errors derive from OSError
        raise DeployError(f"cannot reach the Argo Server at {service.host}: {exc}") from None


def deployed_template(request: DeployRequest, compiled: dict) -> dict:
    """The Argo Server's WorkflowTemplate of the name and namespace `compiled` has, as a manifest (`flowc diff`).

    DeployError when it is not there or the server cannot be asked.
    """
    # hera only when the server is really asked.
    from hera.exceptions import HeraException, NotFound

    if not request.argo_server:
        raise DeployError("argo needs the Argo Server's URL: pass --argo-server https://HOST:2746 or set ARGO_SERVER")
    name = compiled["metadata"]["name"]
    namespace = compiled["metadata"].get("namespace") or DEFAULT_NAMESPACE
    service = _service(request, namespace)
    try:
        found = service.get_workflow_template(name, namespace=namespace)
    except NotFound:
        raise DeployError(
            f"WorkflowTemplate {namespace}/{name} is not deployed on the Argo Server at {service.host}"
        ) from None
    except HeraException as exc:
        raise DeployError(f"Argo Server refused to read WorkflowTemplate {namespace}/{name}: {exc}") from None
    except OSError as exc:  # requests' connection errors derive from OSError
        raise DeployError(f"cannot reach the Argo Server at {service.host}: {exc}") from None
    return as_manifest(found)


def as_manifest(model_or_doc) -> dict:
    """A WorkflowTemplate as the JSON the server speaks: a compiled manifest and a fetched one read alike."""
    # hera's model, so both sides go through the same parsing (int-or-string fields, defaults)
    from hera.workflows import models as m

    model = model_or_doc if not isinstance(model_or_doc, dict) else m.WorkflowTemplate.model_validate(model_or_doc)
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)
