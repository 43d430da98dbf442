"""A stand-in for the Argo Server's REST API on 127.0.0.1: no Argo server (and no Kubernetes) runs here.

It serves workflow templates, cron workflows and (as the Argo Server does when Argo
Events is installed) sensors: GET (404 when absent), POST (create), PUT (update,
checking resourceVersion; a Sensor is checked by argo_schema.sensor_errors); and workflows: POST (submit;
what `flowc trigger -t argo` sends) and GET (what `flowc status -t argo`
reads).  It checks the bearer token and each body against Argo's JSON schema
(tests/argo_schema.py: unknown keys refused) and, for a submitted Workflow,
against hera's models too; a Workflow must name, with `workflowTemplateRef`, a
template it holds in its namespace, and its name must be new (409), as the real
server answers.  It records every request.

What it does not do: run anything.  A submitted Workflow keeps the `status` a
test gives it (`set_workflow_status`), standing in for the controller; the
tests prove a submitted Workflow would run by executing its template with its
arguments on ../shared/tools/argo_sim.py.
"""

from __future__ import annotations

import json
from pathlib import Path

from argo_schema import schema_errors


class StandInArgoServer:
    COLLECTIONS = {
        "workflow-templates": ("template", "WorkflowTemplate"),
        "cron-workflows": ("cronWorkflow", "CronWorkflow"),
        "sensors": ("sensor", "Sensor"),
        "workflows": ("workflow", "Workflow"),
    }

    def __init__(self, schema_file: Path, token: str):
        import http.server
        import threading

        self.objects: dict[tuple[str, str, str], dict] = {}
        self.requests: list[tuple[str, str, dict | None]] = []
        self.problems: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def reply(self, status: int, body: dict):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def handle_any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                server.requests.append((self.command, self.path, body))
                if self.headers.get("Authorization") != f"Bearer {token}":
                    return self.reply(401, {"code": 16, "message": "bad token"})
                parts = self.path.split("?")[0].strip("/").split("/")  # api v1 COLLECTION NS [NAME]
                key_name, kind = server.COLLECTIONS[parts[2]]
                namespace, name = parts[3], parts[4] if len(parts) > 4 else None
                if self.command == "GET":
                    found = server.objects.get((parts[2], namespace, name))
                    return self.reply(200, found) if found else self.reply(404, {"code": 5, "message": "not found"})
                manifest = body[key_name]
                errors = schema_errors(schema_file, manifest) + server.workflow_problems(parts[2], namespace, manifest)
                if errors:
                    server.problems += errors
                    return self.reply(400, {"code": 3, "message": "; ".join(errors[:3])})
                key = (parts[2], namespace, manifest["metadata"]["name"])
                if parts[2] == "workflows" and key in server.objects:
                    return self.reply(409, {"code": 6, "message": f"workflows {key[2]!r} already exists"})
                if self.command == "PUT":
                    current = server.objects[key]["metadata"]["resourceVersion"]
                    if manifest["metadata"].get("resourceVersion") != current:
                        return self.reply(409, {"code": 10, "message": "resourceVersion mismatch"})
                stored = json.loads(json.dumps(manifest))
                stored["metadata"]["resourceVersion"] = str(len(server.requests))
                server.objects[key] = stored
                return self.reply(200, stored)

            do_GET = do_POST = do_PUT = handle_any

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def workflow_problems(self, collection: str, namespace: str, manifest: dict) -> list[str]:
        """What the server refuses in a submitted Workflow beyond the schema: hera's model, the template it names."""
        if collection != "workflows":
            return []
        from hera.workflows import models as m
        from pydantic import ValidationError

        try:
            m.Workflow.model_validate(manifest)
        except ValidationError as exc:
            return [f"hera: {exc}"[:300]]
        ref = (manifest.get("spec") or {}).get("workflowTemplateRef") or {}
        if ("workflow-templates", namespace, ref.get("name")) not in self.objects:
            return [f'workflowtemplates.argoproj.io "{ref.get("name")}" not found in {namespace}']
        return []

    def set_workflow_status(self, namespace: str, name: str, status: dict) -> None:
        """Stand in for the controller: the status a later GET of the workflow returns."""
        self.objects[("workflows", namespace, name)]["status"] = status

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
