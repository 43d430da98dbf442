"""Kubernetes' rules for names, label keys and values (k8s.io/apimachinery validation), as predicates.

Normalize uses them to refuse a value the API server would refuse, at its
decorator; the targets use them for values that arrive through options.
"""

from __future__ import annotations

import re

LABEL_MAX = 63  # a DNS-1123 label, a label value, the name part of a qualified name
SUBDOMAIN_MAX = 253

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_QUALIFIED_NAME_PART = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
_ENV_NAME = re.compile(r"[-._a-zA-Z][-._a-zA-Z0-9]*")

DNS_LABEL_RULE = "DNS-1123 label: lowercase letters, digits and '-', at most 63 characters"
SUBDOMAIN_RULE = "DNS-1123 subdomain: lowercase letters, digits, '-' and '.', at most 253 characters"
KEY_RULE = (
    "an optional DNS-1123 subdomain prefix and '/', then a name of at most 63 letters, digits, "
    "'-', '_' or '.', starting and ending with a letter or digit"
)
VALUE_RULE = "empty, or at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"


def is_dns_label(name: str) -> bool:
    """A namespace's rule (RFC 1123 label)."""
    return isinstance(name, str) and len(name) <= LABEL_MAX and bool(_DNS_LABEL.fullmatch(name))


def is_subdomain(name: str) -> bool:
    """A Secret's or a ServiceAccount's name."""
    return isinstance(name, str) and len(name) <= SUBDOMAIN_MAX and bool(_SUBDOMAIN.fullmatch(name))


def is_qualified_name(key: str) -> bool:
    """A label or annotation key, a nodeSelector key, a toleration key: `[prefix/]name`."""
    if not isinstance(key, str):
        return False
    prefix, slash, name = key.rpartition("/")
    if slash and not is_subdomain(prefix):
        return False
    return len(name) <= LABEL_MAX and bool(_QUALIFIED_NAME_PART.fullmatch(name))


def is_label_value(value: str) -> bool:
    return isinstance(value, str) and (
        value == "" or (len(value) <= LABEL_MAX and bool(_QUALIFIED_NAME_PART.fullmatch(value)))
    )


def is_env_name(name: str) -> bool:
    """A container environment variable's name."""
    return isinstance(name, str) and bool(_ENV_NAME.fullmatch(name))


def gpu_resource_name(vendor: str) -> str:
    """The extended resource a vendor's GPUs are requested as: `nvidia` -> `nvidia.com/gpu`; a full name stays."""
    return vendor if "/" in vendor else f"{vendor}.com/gpu"


def is_gpu_vendor(vendor: str) -> bool:
    """Whether `vendor` makes a valid (prefixed) extended resource name."""
    return (
        isinstance(vendor, str)
        and bool(vendor)
        and "/" in gpu_resource_name(vendor)
        and is_qualified_name(gpu_resource_name(vendor))
        and is_subdomain(gpu_resource_name(vendor).rpartition("/")[0])
    )
