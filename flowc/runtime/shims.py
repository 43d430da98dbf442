"""Metaflow names that have no meaning under flowc, made safe to call: `namespace`, `get_metadata`, ...
and the `metaflow.cards` module (flowc's card components).

Real flows call them around the client (`namespace(None)` before `Flow(...)`, logging
`get_metadata()`, `metaflow_version.get_version()`).  flowc has one datastore per run and
no namespaces or metadata service, so each does nothing and answers what is true here.
"""

from __future__ import annotations

import os
import types

from flowc.contract.settings import env_name


def namespace(ns=None):
    """Metaflow filters the client by namespace; flowc's client sees every run of its datastore."""
    return ns


def get_namespace():
    return None


def default_namespace():
    return None


def get_metadata() -> str:
    """Metaflow's `TYPE@LOCATION`: flowc keeps a run's metadata in its datastore."""
    return "local@" + (os.environ.get(env_name("datastore")) or ".flowc")


def metadata(ms=None) -> str:
    """Switching the metadata provider has no meaning here: the datastore is the only one."""
    return get_metadata()


def default_metadata() -> str:
    return get_metadata()


def _version_module() -> types.ModuleType:
    import flowc

    module = types.ModuleType("metaflow.metaflow_version", "flowc's stand-in for metaflow.metaflow_version")
    module.get_version = lambda public=False: f"flowc-{flowc.__version__}"
    return module


def install(shim: types.ModuleType) -> None:
    """Put the shims on the `metaflow` stand-in module (flowc/runtime/loader.py)."""
    import sys

    for function in (namespace, get_namespace, default_namespace, get_metadata, metadata, default_metadata):
        setattr(shim, function.__name__, function)
    shim.metaflow_version = _version_module()
    shim.__version__ = shim.metaflow_version.get_version()
    sys.modules["metaflow.metaflow_version"] = shim.metaflow_version
    import flowc.cards  # `from metaflow.cards import Markdown, ...`: the card components (stdlib only)

    shim.cards = flowc.cards
    sys.modules["metaflow.cards"] = flowc.cards
