"""IncludeFile parameters are read where the run is launched, as Metaflow does.

The launcher (`flowc run`, `flowc trigger`) reads each IncludeFile's file — the
path given with `--param`, relative to the current folder, or the default,
relative to the flow file's folder — stores its bytes in the datastore as an
artifact blob, and passes `flowc-include:<sha256>` as the parameter's value.
The task loads those bytes from the datastore and never opens a path itself.
"""

from __future__ import annotations

import os

from flowc.contract.command import INCLUDED_FILE_PREFIX


class IncludeError(Exception):
    """An IncludeFile's file cannot be read; one line naming the parameter and the path."""


def include_files(flow, flow_path: str, params: dict, store) -> dict:
    """`params` with every IncludeFile replaced by the reference to its file's bytes in `store`."""
    from flowc.runtime.artifacts import dump  # the artifact blob format, as the task reads it

    out = dict(params)
    for parameter in flow.parameters:
        if parameter.type != "file":
            continue
        given = params.get(parameter.name, "")
        if given.startswith(INCLUDED_FILE_PREFIX):
            continue  # already included (a resumed run's parameters)
        if given:
            path = os.path.abspath(os.path.expanduser(given))
        elif parameter.has_default and parameter.default:
            path = os.path.join(os.path.dirname(os.path.abspath(flow_path)), os.path.expanduser(parameter.default))
        else:
            continue  # no file: the task sees None, or refuses a required parameter
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as exc:
            raise IncludeError(
                f"IncludeFile '{parameter.name}': cannot read {given or parameter.default!r} ({exc.strerror or exc})"
            ) from None
        out[parameter.name] = INCLUDED_FILE_PREFIX + store.put_blob(flow.name, dump(parameter.name, "start", data))
    return out
