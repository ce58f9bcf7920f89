"""Finding run directories and their outcome: the one place results tables and sweep summaries
learn which runs finished, which failed (and why) and which never finished.

A run directory is one :func:`srnn_bench.run.run` wrote (``config.yaml``) or a Hydra job dir
(``.hydra/``) or one holding ``metrics.json`` / ``error.txt``. Its status:

``ok``          ``metrics.json`` exists and parses (it is written last, atomically: the run finished);
``failed``      ``error.txt`` exists (written by ``python -m srnn_bench`` when a run fails), or
                ``metrics.json`` is unreadable;
``incomplete``  neither: still running, or killed (``resume=DIR`` continues it).

Results tables must use only ``ok`` records and say how many others they skipped. A run's identity
(what it is: its settings) comes from its own ``config.yaml`` (:attr:`RunRecord.config`,
:func:`identities`), never from a later session's files: ``.hydra/overrides.yaml`` is read only for a
run that failed before writing its config.
"""

from __future__ import annotations

import functools
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from . import layout
from .layout import MARKERS

OK, FAILED, INCOMPLETE = "ok", "failed", "incomplete"


@dataclass
class RunRecord:
    run_dir: Path
    status: str  # ok | failed | incomplete
    metrics: dict | None = None
    error: str | None = None  # one line: why it failed / is incomplete
    overrides: list[str] = field(default_factory=list)
    config: dict | None = None  # the run's own config.yaml (None: none, or unreadable)

    @property
    def ok(self) -> bool:
        return self.status == OK


def _config(run_dir: Path) -> dict | None:
    path = run_dir / layout.CONFIG
    if not path.is_file():
        return None
    try:
        import yaml

        data = yaml.safe_load(path.read_text())
    except Exception:  # noqa: BLE001 - a damaged config must not hide the run
        return None
    return data if isinstance(data, dict) else None


IDENTITY_IGNORED = ("paths", "resume", "hydra", "run_name", "trainer.device", "trainer.progress", "trainer.num_threads",
                    "trainer.num_workers")
"""Keys that say where or how fast a run ran, not what it is."""


def flat_config(d: dict, prefix: str = "") -> dict:
    """``{"a.b": leaf}`` of a nested config (lists kept whole)."""
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(flat_config(v, key + "."))
        else:
            out[key] = v
    return out


def _ignored(key: str) -> bool:
    return any(key == i or key.startswith(i + ".") for i in IDENTITY_IGNORED)


def identities(records: list[RunRecord]) -> list[dict[str, str]]:
    """Per record, the settings that tell it apart from the others (``{key: value}``, values as on the
    command line): the keys whose value differs between the records' ``config.yaml``; for a record
    without a config (failed before writing it) its ``.hydra/overrides.yaml``."""
    flats = [None if r.config is None else {k: v for k, v in flat_config(r.config).items() if not _ignored(k)}
             for r in records]
    keys = sorted({k for f in flats if f for k in f if len({_fmt(g.get(k)) for g in flats if g is not None}) > 1})
    out = []
    for r, f in zip(records, flats):
        if f is None:
            out.append(dict(o.lstrip("+").split("=", 1) for o in r.overrides if "=" in o))
        else:
            out.append({k: _fmt(f.get(k)) for k in keys})
    return out


def _fmt(v) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    if v is None:
        return "null"
    if isinstance(v, (list, dict)):
        import json

        return json.dumps(v, separators=(",", ":"))
    return str(v)


def _overrides(run_dir: Path) -> list[str]:
    path = run_dir / layout.HYDRA / layout.OVERRIDES
    if not path.is_file():
        return []
    try:
        import yaml

        return [str(o) for o in (yaml.safe_load(path.read_text()) or [])]
    except Exception:  # noqa: BLE001 - a damaged overrides file must not hide the run
        return []


def read_run(run_dir: str | Path) -> RunRecord:
    """The outcome of one run directory."""
    run_dir = Path(run_dir)
    config = _config(run_dir)
    overrides = _overrides(run_dir)
    metrics_path, error_path = run_dir / layout.METRICS, run_dir / layout.ERROR
    if metrics_path.is_file():
        try:
            metrics = json.loads(metrics_path.read_text())
            return RunRecord(run_dir, OK, metrics=metrics, overrides=overrides, config=config)
        except (OSError, ValueError) as e:
            error = f"{metrics_path} unreadable ({e})"
            return RunRecord(run_dir, FAILED, error=error, overrides=overrides, config=config)
    if error_path.is_file():
        try:
            first = error_path.read_text().strip().splitlines()[0]
        except (OSError, IndexError):
            first = f"{error_path} (empty)"
        return RunRecord(run_dir, FAILED, error=first, overrides=overrides, config=config)
    return RunRecord(
        run_dir, INCOMPLETE, error=f"no {layout.METRICS} or {layout.ERROR}: still running or killed (resume={run_dir})",
        overrides=overrides, config=config,
    )


def iter_run_dirs(root: str | Path) -> Iterator[RunRecord]:
    """Every run directory under ``root`` (``root`` itself included), in sorted path order.

    Use it to build results: ``[r.metrics for r in iter_run_dirs(root) if r.ok]``, reporting the
    records that are not ``ok`` (``r.status``, ``r.error``) instead of dropping them silently.
    """
    root = Path(root)
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        names = set(filenames) | set(dirnames)
        if any(m in names for m in MARKERS):
            found.append(Path(dirpath))
            dirnames[:] = []  # a run directory holds no other runs
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
    for run_dir in sorted(found, key=_natural):
        yield read_run(run_dir)


def _natural(path: Path):
    """Sort key: numeric parts by value, before any other name (``1/, 2/, 10/, seed2/``); never compares
    an int with a str."""
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in path.parts]


def summarize_runs(root: str | Path) -> dict:
    """``{"n_ok", "n_failed", "n_incomplete", "runs": [{run_dir, status, error, overrides, <metric>}]}``."""
    runs = []
    records = list(iter_run_dirs(root))
    for r, ident in zip(records, identities(records)):
        row = {"run_dir": str(r.run_dir), "status": r.status, "error": r.error,
               "overrides": [f"{k}={v}" for k, v in ident.items()]}
        if r.metrics is not None:
            row["test_acc"] = r.metrics.get("test_acc")
        runs.append(row)
    count = lambda s: sum(1 for r in runs if r["status"] == s)
    return {"n_ok": count(OK), "n_failed": count(FAILED), "n_incomplete": count(INCOMPLETE), "runs": runs}


def format_summary(summary: dict) -> str:
    """A plain-text table of :func:`summarize_runs`'s result."""
    lines = [f"{summary['n_ok']} ok, {summary['n_failed']} failed, {summary['n_incomplete']} incomplete"]
    for r in summary["runs"]:
        detail = f"test_acc={r['test_acc']:.4f}" if isinstance(r.get("test_acc"), (int, float)) else (r["error"] or "")
        lines.append(f"  {r['status']:<10} {Path(r['run_dir']).name:<8} {' '.join(r['overrides']):<40} {detail}")
    return "\n".join(lines)


def run_uid() -> str:
    """A short random suffix for run directory names: two runs started in the same second with the same
    seed still get different directories (``${run_uid:}`` in configs/hydra/default.yaml)."""
    return secrets.token_hex(3)


NAMED_GROUPS = ("dataset", "encoder", "model", "neuron", "surrogate", "optimizer", "scheduler")
"""Groups whose choice is part of what a run is (``logger``, ``trainer``, ``paths`` are not)."""


def experiment_choices(experiment: str | None) -> dict[str, str]:
    """``group -> option`` that the experiment file selects (``experiment`` is its ``experiment_name`` or its
    option, :func:`experiment_file`; the root defaults when there is no such file), read from the defaults
    lists of ``configs/config.yaml`` and the experiment file."""
    import yaml

    from ..resources import CONFIG_DIR, ROOT_CONFIG

    choices: dict[str, str] = {}
    for entry in yaml.safe_load((CONFIG_DIR / ROOT_CONFIG).read_text()).get("defaults", []):
        if isinstance(entry, dict):
            choices.update({str(k): str(v) for k, v in entry.items()})
    option = experiment_file(experiment) if experiment else None
    if option:
        path = CONFIG_DIR / "experiment" / f"{option}.yaml"
        for entry in (yaml.safe_load(path.read_text()) or {}).get("defaults", []):
            if isinstance(entry, dict):
                for k, v in entry.items():
                    choices[str(k).replace("override ", "").strip().lstrip("/")] = str(v)
    return choices


def run_name(cfg) -> str:
    """What a run is, as a name: ``experiment_name`` plus ``+group=option`` for every config group chosen
    differently from that experiment file (``mnist1d_alif+dataset=npz``). Names run directories and
    ``metrics.json``'s ``experiment`` (``${run_name:}`` in configs/config.yaml)."""
    base = str(cfg.get("experiment_name") or "run")
    expected = experiment_choices(base)
    parts = [base]
    for group in NAMED_GROUPS:
        node = cfg.get(group)
        name = node.get("name") if hasattr(node, "get") else None
        if name is not None and group in expected and str(name) != expected[group]:
            parts.append(f"{group}={name}")
    return "+".join(parts)


IDENTITY_KEYS = ("dataset.name", "encoder.name", "neuron.name", "model.hidden", "model.recurrent",
                 "model.bidirectional", "model.readout.kind", "trainer.loss", "dataset.labels", "dataset.source")
"""The settings that make a run an instance of an experiment file (table builders match on them)."""


def _identity(flat: dict) -> tuple:
    return tuple(_fmt(flat.get(k)) for k in IDENTITY_KEYS)


@functools.lru_cache(maxsize=None)
def _experiment_identity(experiment: str) -> tuple:
    from omegaconf import OmegaConf

    from ..resources import compose

    cfg = compose([f"experiment={experiment}"])
    return _identity(flat_config(OmegaConf.to_container(cfg, resolve=False)))


@functools.lru_cache(maxsize=None)
def _experiment_files() -> dict[str, str]:
    import yaml

    from ..resources import CONFIG_DIR, choices

    out = {}
    for option in sorted(choices("experiment"), key=lambda n: ("/" in n, n)):
        text = yaml.safe_load((CONFIG_DIR / "experiment" / f"{option}.yaml").read_text()) or {}
        out.setdefault(str(text.get("experiment_name", option)), option)
        out.setdefault(option, option)
    return out


def experiment_file(name: str) -> str | None:
    """The ``experiment=`` option (``ecg_alif``, ``yin2021/ecg_0_8589``) whose file sets ``experiment_name: name``
    (or is named ``name``), or ``None``."""
    return _experiment_files().get(name)


def experiment_of(config: dict | None) -> str | None:
    """The experiment file (``configs/experiment/<name>.yaml``, or ``<folder>/<name>.yaml`` such as
    ``yin2021/ecg_0_8589``, the published networks) a run's resolved ``config.yaml`` is an instance of (equal
    on :data:`IDENTITY_KEYS`), or ``None``: table builders match runs by this, never by a name. The file its
    ``experiment_name`` names is tried first (``yin2021_ecg_0_8589`` names ``yin2021/ecg_0_8589``), then the
    others in :func:`srnn_bench.resources.choices` order (top-level files before sub-folders)."""
    from ..resources import choices

    if not config:
        return None
    mine = _identity(flat_config(config))
    names = sorted(choices("experiment"), key=lambda n: ("/" in n, n))
    first = experiment_file(str(config.get("experiment_name")))
    for exp in ([first] if first else []) + [n for n in names if n != first]:
        if _experiment_identity(exp) == mine:
            return exp
    return None


def register_resolvers() -> None:
    """Register ``${run_uid:}`` (cached: one value per process, like Hydra's ``${now:}``) and
    ``${run_name:}`` (:func:`run_name` of the config it is in)."""
    from omegaconf import OmegaConf

    if not OmegaConf.has_resolver("run_uid"):
        OmegaConf.register_new_resolver("run_uid", run_uid, use_cache=True)
    if not OmegaConf.has_resolver("run_name"):
        OmegaConf.register_new_resolver("run_name", lambda *, _root_: run_name(_root_))
