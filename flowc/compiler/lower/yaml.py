"""The YAML every YAML target prints: stable key order as given, block scalars for multi-line text."""

from __future__ import annotations


def dump_yaml(doc: dict) -> str:
    """`doc` as YAML: keys in the order given, multi-line strings as `|` blocks, no line folding."""
    import yaml  # PyYAML is slow to import; only YAML targets pay for it

    base = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

    class Dumper(base):  # type: ignore[misc, valid-type]
        pass

    def text(dumper, value: str):
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text)
    return yaml.dump(doc, Dumper=Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=100_000)


def ordered(value, first: tuple[str, ...]):
    """Mappings with the `first` keys first, in that order (readable), the rest in their order (stable)."""
    if isinstance(value, dict):
        head = [k for k in first if k in value]
        rest = [k for k in value if k not in first]
        return {k: ordered(value[k], first) for k in head + rest}
    if isinstance(value, list):
        return [ordered(v, first) for v in value]
    return value
