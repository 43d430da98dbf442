"""Import the user's flow module (the only place user code is imported).

If the module imports `metaflow` and Metaflow is not installed, that import
resolves to flowc's API, in this process only: a module object is placed in
`sys.modules`, nothing is written to site-packages.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import types


class FlowLoadError(Exception):
    pass


def install_metaflow_shim() -> bool:
    """Make `import metaflow` give flowc's API when Metaflow is absent. True if installed."""
    if "metaflow" in sys.modules:
        return False
    try:
        if importlib.util.find_spec("metaflow") is not None:
            return False
    except (ImportError, ValueError):
        pass
    import flowc

    shim = types.ModuleType("metaflow", "flowc's stand-in for Metaflow's API (Metaflow is not installed)")
    for name in flowc.__all__:
        if name not in ("Run", "Flow", "S3"):
            setattr(shim, name, getattr(flowc, name))
    shim.__getattr__ = flowc.__getattr__  # Run, Flow, S3: load on first use
    from flowc.runtime import shims

    shims.install(shim)  # namespace, get_metadata, metaflow_version...: safe no-ops
    shim.__flowc_shim__ = True
    sys.modules["metaflow"] = shim
    return True


def import_flow_module(flow_file: str):
    """Import FLOW_FILE (a path) as a module named after the file; its folder goes on sys.path."""
    path = os.path.abspath(flow_file)
    if not os.path.isfile(path):
        raise FlowLoadError(f"flow file {flow_file!r} not found (cwd {os.getcwd()})")
    folder = os.path.dirname(path)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    install_metaflow_shim()
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def find_flow_class(module):
    """The FlowSpec subclass defined in the module (the most derived one)."""
    from flowc.api.flowspec import FlowSpec

    candidates = [
        v
        for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, FlowSpec) and v is not FlowSpec and v.__module__ == module.__name__
    ]
    leaves = [c for c in candidates if not any(o is not c and issubclass(o, c) for o in candidates)]
    if len(leaves) != 1:
        found = ", ".join(sorted(c.__name__ for c in leaves)) or "none"
        raise FlowLoadError(f"expected one FlowSpec subclass in {module.__file__}, found: {found}")
    return leaves[0]
