"""The typed schema of the config, inferred from each group's YAML defaults (issue #14, item 1).

Rule (README, "Reliability"; one comment in ``configs/config.yaml``): the type of every key is the
type of its default in the group option file that was chosen (``configs/<group>/<name>.yaml``; the
root keys from ``configs/config.yaml``), so a key added to a YAML gets its type automatically:

* a ``bool`` default makes a bool node: ``true/false``, ``yes/no``, ``on/off``, ``y/n``, ``1/0``
  (any case) are converted, anything else (``maybe``, ``2``, a list) is refused;
* ``int`` (not ``3.5``), ``float`` (ints and numeric strings converted), ``str`` (numbers converted,
  a list or mapping refused), a list (every element typed like the default's first one) or a mapping
  (its keys typed recursively; only keys it has, unless listed in :data:`OPEN`);
* ``null`` is refused where the default is not null, except for the keys of :data:`NULLABLE`;
* explicit annotations (:data:`ANNOTATIONS`, by key name) only where the default is ``null`` or the
  key takes more than one type (``model.recurrent``: a bool or one per layer; ``tau_*``: a number
  or ``{init, mean, std}``).

:func:`apply_schema` converts or refuses (one line naming the key, the expected type and the value)
every key of a composed config; it runs in :func:`srnn_bench.run.run` before anything else, and the
command line runs it on the composed config before Hydra creates a directory
(:func:`srnn_bench.cli.check_key_overrides`), which also refuses keys the schema does not have,
with or without ``+``, unless their parent node is open.
"""

from __future__ import annotations

import functools
from pathlib import Path

from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import ValidationError
from omegaconf.nodes import BooleanNode, FloatNode, IntegerNode, StringNode

from .resources import CONFIG_DIR, ROOT_CONFIG

UNTYPED_GROUPS = ("hydra", "experiment", "hparams_search", "debug")
"""Groups with no schema of their own: Hydra's, and the ``@package _global_`` files that set other groups' keys
(``debug=smoke`` too: its values are typed by the groups they belong to)."""

ANY = "any"
ANNOTATIONS: dict[str, tuple[str, ...]] = {
    # key name -> accepted types, where the default is null or a union
    "recurrent": ("bool", "list"),
    "grad_clip": ("float",),
    "num_threads": ("int",),
    "checkpoint_every_steps": ("int",),
    "checkpoint_every_min": ("float",),
    "limit_train": ("int",),
    "limit_test": ("int",),
    "n_classes": ("int",),
    "binarize": ("float",),
    "binary": ("bool",),
    "path": ("str",),
    "root": ("str",),
    "md5": ("str",),
    "resume": ("str",),
    "num_steps": ("int",),
    "tbptt_steps": ("int",),
}
TAU = ("float", "dict", "list")  # any tau*: a number, {init, mean, std}, or one per layer
NULLABLE = {"tbptt_steps", "tbptt_update", "checkpoint_every_min", "num_steps"}
"""Keys with a non-null default that also take ``null`` (the code reads null as off / the default)."""
OPEN = {"model.readout.neuron", "model.layer_overrides"}
"""Nodes that may hold keys their default does not have (merged into a neuron config)."""

_CONVERT = {"bool": BooleanNode, "int": IntegerNode, "float": FloatNode, "str": StringNode}
_WORDS = {"bool": "a bool (true/false, yes/no, on/off)", "int": "an integer", "float": "a number", "str": "a string",
          "list": "a list", "dict": "a mapping"}


class SchemaError(ValueError):
    """A value of the wrong type, an unknown or a missing key: one line naming the key."""


# -- the schema ---------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _load(path: Path) -> dict:
    data = OmegaConf.to_container(OmegaConf.load(path), resolve=False)
    data.pop("defaults", None)
    return data


def option_file(group: str, node) -> Path | None:
    """The YAML a composed group came from: ``configs/<group>/<name>.yaml``, else the group's only file."""
    folder = CONFIG_DIR / group
    name = node.get("name") if isinstance(node, (dict, DictConfig)) else None
    if name is not None and (folder / f"{name}.yaml").is_file():
        return folder / f"{name}.yaml"
    files = sorted(folder.glob("*.yaml"))
    if (folder / "default.yaml").is_file():
        return folder / "default.yaml"
    return files[0] if len(files) == 1 else None


def schema_defaults(cfg) -> dict:
    """``{group: defaults of its chosen option, root key: default}`` for a composed config."""
    out = {k: v for k, v in _load(CONFIG_DIR / ROOT_CONFIG).items()}
    for folder in sorted(p for p in CONFIG_DIR.iterdir() if p.is_dir() and p.name not in UNTYPED_GROUPS):
        node = cfg.get(folder.name) if cfg is not None else None
        path = option_file(folder.name, node)
        if path is not None:
            out[folder.name] = _load(path)
    return out


def expected_types(key: str, default) -> tuple[str, ...]:
    name = key.rsplit(".", 1)[-1].split("[", 1)[0]
    if name in ANNOTATIONS:
        return ANNOTATIONS[name]
    if name.startswith("tau") and name != "tau_lr_mult" and isinstance(default, (dict, int, float)):
        return TAU
    if default is None:
        return (ANY,)
    for t, py in (("bool", bool), ("int", int), ("float", float), ("str", str), ("list", list), ("dict", dict)):
        if isinstance(default, py):
            return (t,)
    return (ANY,)


def _kind(v) -> str:
    if isinstance(v, (dict, DictConfig)):
        return "dict"
    if isinstance(v, (list, tuple, ListConfig)):
        return "list"
    return type(v).__name__


def _show(v) -> str:
    if isinstance(v, (DictConfig, ListConfig)):
        v = OmegaConf.to_container(v, resolve=False)
    return repr(v) if isinstance(v, str) else str(v)


def convert(key: str, default, value):
    """``value`` converted to the type of ``default`` (see the module docstring), or :class:`SchemaError`."""
    types = expected_types(key, default)
    name = key.rsplit(".", 1)[-1].split("[", 1)[0]
    if value is None:
        if default is None or name in NULLABLE or ANY in types:
            return None
        raise SchemaError(f"{key} must be {_WORDS.get(types[0], types[0])}, got null")
    if ANY in types:
        return value
    kind = _kind(value)
    if kind == "dict":
        if "dict" in types:
            return value
    elif kind == "list":
        if "list" in types:
            # elements typed like the default's first one, or like a scalar default (model.recurrent: one per layer)
            elem = (default[0] if default else None) if isinstance(default, list) else default
            if elem is None or isinstance(elem, (dict, list)):
                return value
            return [convert(f"{key}[{i}]", elem, v) for i, v in enumerate(value)]
    else:
        for t in types:
            if t in _CONVERT:
                if t == "bool" and isinstance(value, int) and not isinstance(value, bool) and value not in (0, 1):
                    continue
                try:
                    return _CONVERT[t](value)._value()
                except ValidationError:
                    continue
    want = " or ".join(_WORDS.get(t, t) for t in types)
    raise SchemaError(f"{key} must be {want}, got {_show(value)} ({kind})")


def _is_interpolation(node, key) -> bool:
    try:
        return OmegaConf.is_interpolation(node, key)
    except Exception:  # noqa: BLE001 - a list index, a missing key
        return False


def _apply(node, defaults: dict, prefix: str, fill_missing: bool, filled: list[str]) -> None:
    for key, default in defaults.items():
        path = f"{prefix}{key}"
        if key not in node:
            if fill_missing:
                node[key] = default
                filled.append(path)
                continue
            raise SchemaError(f"{path} is missing from the config (removed with ~{path}?); give it a value instead")
        if _is_interpolation(node, key):
            continue
        value = node[key]
        types = expected_types(path, default)
        if isinstance(default, dict) and isinstance(value, DictConfig) and "dict" in types:
            _apply(value, default, path + ".", fill_missing, filled)
            continue
        new = convert(path, default, value)
        if new is not value:
            node[key] = new


def apply_schema(cfg: DictConfig, fill_missing: bool = False) -> list[str]:
    """Convert every key of ``cfg`` to its schema type in place (``yes`` -> ``True``, ``"3"`` -> ``3``), or
    raise :class:`SchemaError`. ``fill_missing``: a key the schema has but ``cfg`` lacks takes its default
    (a config written before the key existed); returns those keys. Otherwise a missing key is an error."""
    from omegaconf import open_dict

    filled: list[str] = []
    with open_dict(cfg):
        _apply(cfg, schema_defaults(cfg), "", fill_missing, filled)
    return filled


ABSENT = object()
"""What :func:`schema_default` returns for a key the schema does not have."""


def schema_default(defaults: dict, key: str):
    """The default of ``key`` (dotted) in ``defaults`` (:func:`schema_defaults`), or :data:`ABSENT`."""
    node = defaults
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return ABSENT
        node = node[part]
    return node


def schema_has(cfg, key: str) -> bool:
    """Whether ``key`` (dotted) may be set: it is in the schema defaults, or under an :data:`OPEN` node, or
    under a group without a schema."""
    if key.split(".", 1)[0] in UNTYPED_GROUPS or any(key == o or key.startswith(o + ".") for o in OPEN):
        return True
    return schema_default(schema_defaults(cfg), key) is not ABSENT
