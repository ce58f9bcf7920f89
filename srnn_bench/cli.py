"""Command-line checks shared by the entry points (``python -m srnn_bench``, ``python -m srnn_bench.energy``,
``python -m srnn_bench.zoo``, ``scripts/``): each turns a bad override into one line naming the key and the
valid choices, before Hydra's multi-line message. :func:`compose_checked` composes a command line's
overrides the same way without the Hydra runtime (no run directory, no logging set up).
"""

from __future__ import annotations

from .resources import choices, compose
from .resources import groups as config_groups

GROUPS = config_groups()


def check_group_overrides(argv: list[str]) -> str | None:
    """Return a one-line error for the first ``group=choice`` naming a missing option, else ``None``."""
    for arg in argv:
        if arg.startswith("-") or "=" not in arg:
            continue
        key, value = arg.split("=", 1)
        key = key.lstrip("+~")
        if key not in GROUPS or value in ("", "null") or any(c in value for c in "()[]{}*$"):
            continue
        valid = choices(key)
        for v in value.split(","):
            if v not in valid:
                return f"unknown {key} '{v}'; valid choices: {', '.join(valid)}"
    return None


def _values(o) -> list:
    """The parsed value(s) of one override: a sweep's choices each, else its one value."""
    from hydra.core.override_parser.types import ChoiceSweep

    if o.is_sweep_override():
        return list(o.sweep_iterator()) if isinstance(o.value(), ChoiceSweep) else []
    return [o.value()]


def _hydra_literal(v) -> str | None:
    """``v`` in Hydra's override syntax, for the scalars (and lists of them) the schema converts; else None."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, list) and all(isinstance(x, (bool, int, float)) for x in v):
        return "[" + ",".join(_hydra_literal(x) for x in v) + "]"
    return None


def check_key_overrides(argv: list[str], typed: dict[str, str] | None = None) -> str | None:
    """Return a one-line error for the first ``key=value`` the typed schema refuses, else ``None``.

    Composes the config with the group choices of ``argv`` (first value of a sweep) and checks each key
    override against it and :mod:`srnn_bench.config_schema`: the key must exist (``+key=`` too, unless
    its node is open), its value(s) must have the key's type, and ``~key`` may not remove a schema key.
    ``hydra.*`` is left to Hydra. ``typed``: filled with ``{argument: the same override with its value(s)
    converted}`` (``model.bidirectional=no`` -> ``model.bidirectional=false``), for Hydra to compose.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf

    from .config_schema import ABSENT, OPEN, SchemaError, convert, schema_default, schema_defaults

    args = [a for a in argv if not a.startswith("-") and ("=" in a or a.startswith("~"))]
    if not args:
        return None
    try:
        parsed = OverridesParser.create().parse_overrides(args)
    except Exception as e:  # noqa: BLE001 - Hydra's parser error, made one line
        return f"cannot parse the command line: {str(e).strip().splitlines()[0]}"
    groups, keys = [], []
    for o in parsed:
        key = o.key_or_group
        if key.startswith("hydra"):
            continue
        if key.split("@")[0] in GROUPS or "/" in key:
            if o.is_delete():
                continue
            value = next(iter(o.sweep_string_iterator())) if o.is_sweep_override() else o.get_value_element_as_str()
            groups.append(f"{'+' if o.is_add() else ''}{key}={value}")
        else:
            keys.append(o)
    if not keys:
        return None
    try:
        cfg = compose(groups)
    except Exception:  # noqa: BLE001 - let Hydra report composition problems itself
        return None
    defaults = schema_defaults(cfg)
    for o in keys:
        key = o.key_or_group
        default = schema_default(defaults, key)
        in_cfg = OmegaConf.select(cfg, key, default=ABSENT, throw_on_missing=False) is not ABSENT
        if o.is_delete():
            if default is not ABSENT:
                return f"~{key}: srnn_bench reads {key}, it cannot be removed; give it a value instead"
            continue
        if not in_cfg and not any(key == p or key.startswith(p + ".") for p in OPEN):
            return _unknown_key(cfg, key)
        if default is ABSENT:
            continue  # a key of an experiment file or an open node: no schema type
        try:
            values = _values(o)
            converted = [v if isinstance(v, str) and "${" in v else convert(key, default, v) for v in values]
        except SchemaError as e:
            return str(e)
        if typed is not None and any(type(v) is not type(c) or v != c for v, c in zip(values, converted)):
            literals = [_hydra_literal(v) for v in converted]
            if o.input_line and None not in literals:
                prefix = o.input_line.split("=", 1)[0]
                typed[o.input_line] = f"{prefix}={','.join(literals)}"
    return None


def _unknown_key(cfg, key: str) -> str:
    import difflib

    from omegaconf import OmegaConf

    parent, _, leaf = key.rpartition(".")
    node = OmegaConf.select(cfg, parent, default=None) if parent else cfg
    while parent and node is None:
        parent, _, _ = parent.rpartition(".")
        node = OmegaConf.select(cfg, parent, default=None) if parent else cfg
    where = f"keys of {parent}" if parent else "top-level keys"
    names = sorted(str(k) for k in node.keys()) if OmegaConf.is_dict(node) else []
    close = difflib.get_close_matches(leaf, names, n=1)
    hint = f"; did you mean {parent + '.' if parent else ''}{close[0]}?" if close else ""
    return f"unknown key '{key}'; valid {where}: {', '.join(names)}{hint}"


def compose_checked(overrides: list[str]):
    """The project config with ``overrides``, checked and composed like the command line (no Hydra runtime),
    the typed schema applied. A bad override raises ``ValueError`` with one line."""
    from .config_schema import apply_schema

    err = check_group_overrides(overrides) or check_key_overrides(overrides)
    if err:
        raise ValueError(err)
    try:
        cfg = compose(overrides)
    except Exception as e:  # noqa: BLE001 - Hydra's multi-line message, made one line
        raise ValueError(f"cannot compose the config: {str(e).strip().splitlines()[0]}") from None
    apply_schema(cfg)
    return cfg
