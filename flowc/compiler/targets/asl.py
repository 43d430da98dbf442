"""Amazon States Language: small typed helpers, one per state kind, each returning a plain dict.

Step Functions has no Python model we can build from, so these helpers are the
model: key order here is the key order in the output (stable bytes), and every
user value reaches the definition either as a JSON string value or inside an
intrinsic-function string literal escaped by `literal()`.
"""

from __future__ import annotations

import hashlib
import re

BATCH_SUBMIT_JOB_SYNC = "arn:aws:states:::batch:submitJob.sync"
S3_GET_OBJECT = "arn:aws:states:::s3:getObject"
S3_GET_OBJECT_SDK = "arn:aws:states:::aws-sdk:s3:getObject"  # the AWS SDK integration: the object's Body as text
MAX_NAME_CHARS = 80
_UNSAFE_NAME_CHAR = re.compile(r"[^A-Za-z0-9_-]")


def safe_name(name: str, limit: int = MAX_NAME_CHARS) -> str:
    """A name Step Functions and Batch accept: [A-Za-z0-9_-], at most `limit` chars.

    The rule is stable: a name that already fits is kept as is; otherwise the
    unsafe characters become `_`, and if anything changed or it is too long, an
    8-hex sha256 of the original is appended so two different names never meet.
    """
    cleaned = _UNSAFE_NAME_CHAR.sub("_", name)
    if cleaned == name and len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    return f"{cleaned[: limit - 9]}-{digest}"


# Characters an intrinsic-function string literal must escape (AWS: `\\'`, `\\{`, `\\}`, `\\\\`), and
# parentheses, which aws-local-stepfunctions' parser counts even inside a string literal.
_RESERVED_RUN = re.compile(r"([\\'{}()]+)")
TEXT, EXPRESSION = "text", "expression"


def literal(text: str) -> str:
    """`text` as an intrinsic-function argument that evaluates to exactly `text`, with no escape sequence.

    AWS documents backslash escapes for ' { } \\, but the tools that check and
    run definitions here disagree with it (asl-validator refuses `\\\\`,
    aws-local-stepfunctions keeps `\\'` as two characters), so a value with a
    reserved character is never escaped: its reserved runs are base64 text
    (an alphabet with no syntax in it) decoded by `States.Base64Decode`, and
    the rest, whatever its characters, stays a plain quoted literal.
    Parentheses are reserved too: aws-local-stepfunctions counts them inside
    literals.  (It decodes base64 as Latin-1, so non-ASCII text stays plain.)
    """
    if not _RESERVED_RUN.search(text):
        return f"'{text}'"
    if text.isascii():
        return _decoded(text)
    return format_call([(TEXT, text)])


def format_call(pieces: list[tuple[str, str]]) -> str:
    """`States.Format` of (TEXT, literal text) and (EXPRESSION, intrinsic argument) pieces, in order.

    Plain text goes into the template; reserved runs and expressions each fill a `{}`.
    """
    template, arguments = "", []
    for kind, value in pieces:
        if kind == EXPRESSION:
            template += "{}"
            arguments.append(value)
            continue
        for i, part in enumerate(_RESERVED_RUN.split(value)):
            if i % 2:
                template += "{}"
                arguments.append(_decoded(part))
            else:
                template += part
    return f"States.Format('{template}', {', '.join(arguments)})"


def _decoded(text: str) -> str:
    import base64

    return f"States.Base64Decode('{base64.b64encode(text.encode('utf-8')).decode('ascii')}')"


def catch_task_failed(result_path: str, next_state: str) -> dict:
    """A catcher of a failed job that keeps the state and puts {Error, Cause} at `result_path`."""
    return {"ErrorEquals": ["States.TaskFailed"], "ResultPath": result_path, "Next": next_state}


def wait(seconds: int, next_state: str) -> dict:
    return {"Type": "Wait", "Seconds": seconds, "Next": next_state}


def catch_all(fail_state: str) -> list[dict]:
    return [{"ErrorEquals": ["States.ALL"], "Next": fail_state}]


def fail(error: str, cause: str) -> dict:
    return {"Type": "Fail", "Error": error, "Cause": cause}


def batch_task(
    parameters: dict,
    *,
    next_state: str | None,
    catch: list[dict] | None,
    timeout_seconds: int | None,
    output_empty: bool = False,
) -> dict:
    """A Batch job run to completion; its (large) job description never enters the state."""
    state: dict = {"Type": "Task", "Resource": BATCH_SUBMIT_JOB_SYNC, "Parameters": parameters, "ResultPath": None}
    if output_empty:
        state["OutputPath"] = None
    if timeout_seconds:
        state["TimeoutSeconds"] = timeout_seconds
    if catch:
        state["Catch"] = catch
    return _then(state, next_state)


def parallel(branches: list[dict], *, next_state: str | None, output_empty: bool = False) -> dict:
    state: dict = {"Type": "Parallel", "Branches": branches, "ResultPath": None}
    if output_empty:
        state["OutputPath"] = None
    return _then(state, next_state)


def distributed_map(
    processor: dict,
    *,
    bucket: str,
    key_expression: str,
    item_selector: dict,
    max_concurrency: int | None,
    next_state: str | None,
    output_empty: bool = False,
) -> dict:
    """A Distributed Map over the JSON array stored at s3://bucket/<key_expression>."""
    state: dict = {
        "Type": "Map",
        "ItemReader": {
            "Resource": S3_GET_OBJECT,
            "ReaderConfig": {"InputType": "JSON"},
            "Parameters": {"Bucket": bucket, "Key.$": key_expression},
        },
        "ItemSelector": item_selector,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, **processor},
    }
    if max_concurrency:
        state["MaxConcurrency"] = max_concurrency
    state["ResultPath"] = None
    if output_empty:
        state["OutputPath"] = None
    return _then(state, next_state)


def pass_state(parameters: dict, next_state: str, result_path: str | None = None) -> dict:
    state: dict = {"Type": "Pass", "Parameters": parameters}
    if result_path is not None:
        state["ResultPath"] = result_path
    return _then(state, next_state)


def choice(rules: list[dict], default: str) -> dict:
    return {"Type": "Choice", "Choices": rules, "Default": default}


def choice_is_present(variable: str, then_state: str, else_state: str) -> dict:
    return {
        "Type": "Choice",
        "Choices": [{"Variable": variable, "IsPresent": True, "Next": then_state}],
        "Default": else_state,
    }


def _then(state: dict, next_state: str | None) -> dict:
    if next_state is None:
        state["End"] = True
    else:
        state["Next"] = next_state
    return state
