"""Where the Hydra config tree is: the one place that computes it.

The configs live at the repository's top level (``configs/``) and ship inside the wheel as the package
``srnn_bench.configs`` (``pyproject.toml``: ``package-dir`` maps it to ``configs/``, package-data
``*.yaml``). :data:`CONFIG_DIR` is

1. ``srnn_bench/configs`` inside the installed package (a wheel or ``pip install .``), found through
   ``importlib.resources``; else
2. ``configs/`` of the source checkout the package was imported from (:data:`CHECKOUT`:
   ``PYTHONPATH=<checkout>`` or ``pip install -e``) -- that checkout's own copy, never the one an editable
   install of another checkout maps ``srnn_bench.configs`` to.

Everything that composes a config or lists a group's choices uses :data:`CONFIG_DIR` or
:func:`compose`. Importing this module is cheap (no Hydra, no torch).
"""

from __future__ import annotations

import copy
import functools
from importlib import resources
from pathlib import Path

ROOT_CONFIG = "config.yaml"


def _is_tree(path) -> bool:
    return path is not None and Path(path, ROOT_CONFIG).is_file()


def _checkout() -> Path | None:
    root = Path(__file__).resolve().parent.parent
    try:
        return root if 'name = "srnn-bench"' in (root / "pyproject.toml").read_text() else None
    except OSError:  # an installed package: site-packages has no pyproject.toml of ours
        return None


CHECKOUT: Path | None = _checkout()
"""The source checkout (repository root) the package runs from, or ``None`` for an installed package."""


def _locate() -> Path | None:
    installed = Path(str(resources.files("srnn_bench") / "configs"))
    if _is_tree(installed):
        return installed
    if CHECKOUT is not None and _is_tree(CHECKOUT / "configs"):
        return CHECKOUT / "configs"
    return None


_FOUND = _locate()
CONFIG_DIR: Path = _FOUND or Path(__file__).resolve().parent / "configs"
"""The config tree (see the module docstring); check :func:`missing` before relying on it."""


def missing() -> str | None:
    """One line saying that no config tree was found (a broken install), or ``None``."""
    if _FOUND is not None:
        return None
    return (
        f"cannot find the config tree (no {ROOT_CONFIG} in the installed srnn_bench/configs, nor in configs/ of a "
        "source checkout); reinstall srnn-bench (pip install .) or run from a checkout"
    )


def groups() -> list[str]:
    """The config groups (sub-directories of :data:`CONFIG_DIR`)."""
    return sorted(p.name for p in CONFIG_DIR.iterdir() if p.is_dir()) if CONFIG_DIR.is_dir() else []


def choices(group: str) -> list[str]:
    """The options of a config group: file names under ``configs/<group>/``, those in sub-folders as
    ``folder/name`` (e.g. ``experiment=yin2021/ecg_0_8589``, the published networks)."""
    root = CONFIG_DIR / group
    return sorted(p.relative_to(root).with_suffix("").as_posix() for p in root.rglob("*.yaml"))


@functools.lru_cache(maxsize=None)
def _load_defaults(group: str, option: str) -> dict:
    from omegaconf import OmegaConf

    path = CONFIG_DIR / group / f"{option}.yaml"
    if not path.is_file():
        raise ValueError(f"unknown {group} '{option}' (no {path}); valid choices: {', '.join(choices(group))}")
    data = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    data.pop("defaults", None)
    return data


def group_defaults(group: str, option: str) -> dict:
    """``configs/<group>/<option>.yaml`` as a dict (its defaults list dropped): the one place each default of
    that option is written (issue #15). A fresh copy: the caller may change it."""
    return copy.deepcopy(_load_defaults(group, option))


def _merge(base: dict, given: dict) -> dict:
    out = dict(base)
    for k, v in given.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def with_defaults(group: str, cfg, option: str | None = None) -> dict:
    """``cfg`` (a composed node, a saved run's, or a dict with at least ``name``) merged over
    :func:`group_defaults` of ``option`` (default: its ``name``), as Hydra merges (mappings key by key, other
    values replaced), interpolations of ``cfg`` resolved. What builders read, so they index ``cfg["key"]``
    and never repeat a default: ``build_data``, ``build_model``, ``build_cell``."""
    from omegaconf import DictConfig, OmegaConf

    given = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)
    return _merge(group_defaults(group, str(option or given["name"])), given)


def compose(overrides: list[str] | None = None, config_name: str = "config"):
    """The project config with ``overrides``, composed like the command line does (no Hydra runtime)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(version_base="1.3", config_dir=str(CONFIG_DIR)):
        return hydra_compose(config_name=config_name, overrides=list(overrides or []))
