"""Translations that more than one target shares, spelled once.

- `kubernetes`: pod settings (resources, secrets, scheduling, metadata, shared
  memory) for Argo and Airflow; `kubernetes_names`: Kubernetes' own name and
  label rules, which normalize also needs.
- `parameters`: a Parameter's default as the text `--param NAME=TEXT` carries.
- `skypilot`: the SkyPilot task document and the launcher argv every
  orchestrator runs for a @skypilot step.
- `yaml`: the stable YAML dump of Argo manifests and SkyPilot tasks.

Modules here import the IR and each other, never a target module.
"""
