"""``python -m srnn_bench.zoo list | import | verify | table``: the published checkpoints as srnn_bench runs.

    python -m srnn_bench.zoo list                              # the registry, and which files are here
    python -m srnn_bench.zoo import NAME|FILE [--out RUN_DIR] [--as NAME]  # -> an ordinary run directory
    python -m srnn_bench.zoo verify NAME [--out RUN_DIR]       # import + evaluate + paper / authors / ours
    python -m srnn_bench.zoo table [--results results/zoo]     # -> results/published_models.md

``--data-dir`` (every command; default ``$SRNN_BENCH_DATA``, else ``data``) is where checkpoints are looked
for (``<data-dir>/yin2021/<path in the authors' repository>``) and where the datasets are.

``import`` writes a normal run directory: ``config.yaml`` (the converter's experiment config, composed and
validated, resolved), ``checkpoints/last.pt`` in the trainer's format (epoch 0, fresh optimiser: ``python
-m srnn_bench resume=RUN_DIR`` fine-tunes it with the config's Table S1 schedule), ``provenance.json``
(source file, sha256, URL, converter, date) and ``env.json`` (git commit, versions). A FILE (e.g. a user's
own retrained checkpoint from the authors' scripts) is recognised by its parameter names and shapes.

``verify`` exit status and what it prints (one line per fact):

- ``verified``: evaluated, every deterministic authors'-code number reproduced within its tolerance (0);
- ``differs``: evaluated, and at least one of them is not (1);
- ``partly verified``: those measured hold, but one is not measured by this srnn_bench (e.g. ECG's
  ``test_acc_class0`` before the ECG loader's two counting rules exist) (0);
- ``measured``: evaluated; the authors' numbers for this checkpoint come from random initial states
  or their training logs only, so there is nothing exact to check against (0); ``measured on a subset``:
  ``dataset.limit_test`` was given, so nothing is checked either, nor ``measured in float32`` (0);
- ``not verified``: the checkpoint or the data is absent: one line per missing item, where to put it
  and where to get it (0);
- ``not reproducible``: imported, but its accuracy cannot be measured even with the data (PS-MNIST: the
  permutation is unpublished) (0).

Bad input (unknown name, unreadable or unsafe file, no converter) is one line and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from . import registry
from .registry import REGISTRY, Published, ZooError
from ..utils import layout

TABLE_OUT = "published_models.md"
VERIFY_FILE = layout.VERIFY
TRAINING_RECORD = (layout.METRICS, layout.HISTORY)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# -- list ----------------------------------------------------------------------------------------
def list_rows(data_dir: str | Path) -> list[dict]:
    rows = []
    for e in registry.ENTRIES:
        path = e.local_path(data_dir)
        rows.append({"name": e.name, "task": e.task, "architecture": e.architecture,
                     "paper": e.paper["accuracy"], "file": "present" if path.is_file() else "absent", "path": str(path)})
    return rows


# -- import --------------------------------------------------------------------------------------
def _resolve(source: str, data_dir: str, download: bool, as_name: str | None = None):
    """(zoo name, checkpoint path, converter, registry entry or None) for a NAME or a FILE (``as_name``:
    convert the FILE with that entry's converter instead of recognising it)."""
    from .safe_load import load_authors_checkpoint

    if source in REGISTRY and as_name is None:
        path = registry.locate(source, data_dir, download)
        ckpt = load_authors_checkpoint(path)
        conv = registry.converter(source)
        if not conv.matches(ckpt):
            raise ZooError(f"{path}: its parameter names/shapes do not match the converter of '{source}'")
        return source, path, ckpt, conv, REGISTRY[source]
    path = Path(source).expanduser()
    if not path.is_file():
        raise ZooError(f"'{source}' is neither a published model ({', '.join(REGISTRY)}) nor an existing file")
    ckpt = load_authors_checkpoint(path)
    known = registry.by_sha256(registry.sha256_of(path))
    if as_name is not None:
        conv = registry.converter(as_name)
        if not conv.matches(ckpt):
            raise ZooError(f"{path}: its parameter names/shapes do not match the converter of '{as_name}'")
        return as_name, path, ckpt, conv, known if known is not None and known.name == as_name else None
    convs = registry.all_converters()
    matched = [n for n, c in convs.items() if c.matches(ckpt)]
    if known is not None and known.name in matched:
        matched = [known.name]
    if not matched:
        raise ZooError(
            f"{path}: no converter recognises its parameters ({len(ckpt.state)} tensors, class "
            f"{ckpt.root_class or 'state_dict'}); known networks: {', '.join(sorted(convs)) or 'none installed'}"
        )
    if len(matched) > 1:
        raise ZooError(f"{path}: its parameters fit several networks ({', '.join(matched)}); say which with --as NAME")
    return matched[0], path, ckpt, convs[matched[0]], known


def _check_out(out: Path) -> None:
    """Refuse a directory holding a training record or another run's checkpoint; a previous import
    (``provenance.json``, no training record) may be replaced."""
    if not out.exists():
        return
    record = [n for n in TRAINING_RECORD if (out / n).exists()]
    if record:
        raise ZooError(f"{out} holds a training record ({', '.join(record)}); import into a new directory (--out)")
    if (out / layout.CHECKPOINTS).exists() and not (out / layout.PROVENANCE).exists():
        raise ZooError(f"{out} holds checkpoints of another run; import into a new directory (--out)")


def import_checkpoint(source: str, out: str | Path | None = None, data_dir: str | None = None,
                      download: bool = True, as_name: str | None = None) -> Path:
    """Import a published checkpoint (NAME) or a file saved by the authors' scripts (FILE; ``as_name``: the
    network it is, when its parameters fit several) into a run directory; returns it."""
    from omegaconf import OmegaConf

    from ..cli import compose_checked
    from ..config_validation import validate_config
    from ..models import build_model
    from ..surrogates import build_surrogate
    from ..training.optim import build_optimizer, build_scheduler
    from ..training.trainer import TrainerConfig, checkpoint_state, resolve_dtype, seed_everything
    from ..utils.io import atomic_torch_save, atomic_write_text, environment, git_info, write_json

    data_dir = str(data_dir or registry.default_data_dir())
    name, path, ckpt, conv, known = _resolve(source, data_dir, download, as_name)
    overrides = [f"experiment={conv.experiment}", f"paths.data_dir='{data_dir}'"]
    cfg = compose_checked(overrides)
    validate_config(cfg)
    tr = TrainerConfig.from_node(cfg.trainer)
    dtype = resolve_dtype(tr.dtype)
    out = Path(out).expanduser() if out is not None else Path(str(cfg.paths.output_dir)) / "zoo" / name
    _check_out(out)

    seed_everything(tr.seed)
    model = build_model(cfg.model, conv.n_in, conv.n_classes, cfg.neuron, build_surrogate(cfg.surrogate)).to(dtype)
    try:
        model.load_state_dict(conv.state_dict(ckpt, model), strict=True)
    except (RuntimeError, KeyError, ValueError) as e:
        raise ZooError(f"{path}: the converter of '{name}' does not fit {conv.experiment} ({str(e).splitlines()[0]})") from None
    optimizer = build_optimizer(model, cfg.optimizer, tr.lr)
    scheduler = build_scheduler(optimizer, cfg.scheduler, tr.epochs)
    digest = registry.sha256_of(path)
    previous = out / layout.PROVENANCE
    if previous.is_file() and json.loads(previous.read_text()).get("sha256") != digest:
        import shutil

        for stale in out.glob("eval*"):  # evaluations of the file imported here before
            shutil.rmtree(stale)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / layout.CONFIG, OmegaConf.to_yaml(cfg, resolve=True))
    write_json(out / layout.ENV, {"git": git_info(), **environment()})
    write_json(out / layout.PROVENANCE, {
        "zoo_name": name,
        "source_file": str(path.resolve()),
        "sha256": digest,
        "published_file": known is not None and known.sha256 == digest,
        "url": known.url if known is not None else None,
        "authors_repository": registry.REPOSITORY,
        "repo_path": known.repo_path if known is not None else None,
        "checkpoint_class": ckpt.root_class,
        "converter": f"{REGISTRY[name].converter}['{name}']",
        "experiment": conv.experiment,
        "overrides": overrides,
        "date": _now(),
        "srnn_bench_git": git_info(),
    })
    for stale in (layout.PREV, layout.NEXT, layout.BEST, layout.INIT):  # of a previous import into the same directory
        layout.checkpoint(out, stale).unlink(missing_ok=True)
    state = checkpoint_state(model, optimizer, scheduler)
    atomic_torch_save(layout.checkpoint(out, layout.LAST), state)
    return out


# -- verify --------------------------------------------------------------------------------------
def _pct(v) -> str:
    return f"{100 * v:.2f}" if isinstance(v, (int, float)) else "-"


def compare(e: Published, metrics: dict) -> tuple[str, list[dict]]:
    """(status, rows): each authors'-code number beside ours (the metric measuring the same thing).
    ``verified``: every number with a tolerance is matched; ``differs``: one is measured and is not;
    ``partly verified``: the matched ones hold, but a metric is not measured by this srnn_bench;
    ``measured``: no number with a tolerance."""
    rows, checked, bad, absent = [], 0, 0, 0
    for n in e.authors_code:
        ours = metrics.get(n.metric)
        ours_pct = 100 * ours if isinstance(ours, (int, float)) else None
        row = {"authors_code": n.value, "what": n.what, "metric": n.metric, "ours": ours_pct, "tolerance": n.tolerance}
        if n.tolerance is not None:
            checked += 1
            row["within_tolerance"] = None if ours_pct is None else abs(ours_pct - n.value) <= n.tolerance
            bad += row["within_tolerance"] is False
            absent += ours_pct is None
        rows.append(row)
    if not checked:
        return "measured", rows
    return ("differs" if bad else "partly verified" if absent else "verified"), rows


def verify(name: str, out: str | Path | None = None, data_dir: str | None = None, overrides: list[str] | None = None,
           download: bool = True, echo=print, record_dir: str | Path | None = None) -> dict:
    """Import + evaluate + compare; returns (and writes to ``<run>/eval/verify.json``) the record.
    ``record_dir``: also copy the small files (config, provenance, eval/*; no checkpoint) to
    ``<record_dir>/<name>/``, where ``zoo table`` reads them (e.g. ``results/zoo``)."""
    from ..evaluate import evaluate_run
    from ..utils.io import write_json

    e = registry.entry(name)
    data_dir = str(data_dir or registry.default_data_dir())
    paper = e.paper
    record = {"name": name, "task": e.task, "paper": paper["accuracy"], "paper_source": paper["source"],
              "authors_code": [{"value": n.value, "what": n.what} for n in e.authors_code],
              "data_dir": data_dir, "date": _now(), "missing": [], "ours": {}}
    echo(f"{name}: {e.task}; {e.architecture}")
    echo(f"  paper (Yin et al. 2021 Table 1, {paper['cell']}): {paper['accuracy']}%")
    for n in e.authors_code:
        echo(f"  authors' code: {n.value}% ({n.what})")
    try:
        run_dir = import_checkpoint(name, out if out is not None else tempfile.mkdtemp(prefix=f"zoo_verify_{name}_"),
                                    data_dir, download)
    except ZooError as err:
        if not e.local_path(data_dir).is_file():  # the checkpoint itself is absent
            record.update(status="not verified", missing=[str(err)])
            echo(f"  missing: {err}")
            echo(f"  status: not verified (checkpoint absent under {data_dir})")
            return record
        raise
    record["run_dir"] = str(run_dir)
    echo(f"  imported -> {run_dir}")
    eval_dir = run_dir / eval_dir_name(run_dir, overrides)
    missing = [d for d in e.data if not d.present(data_dir)]
    if e.not_reproducible:
        record["status"] = "not reproducible"
        record["reason"] = e.not_reproducible
        echo(f"  status: not reproducible ({e.not_reproducible}); the golden test checks the imported network")
    elif missing:
        record["missing"] = [f"{d.what}: expected {Path(data_dir) / d.pattern}"
                             f"{f' (at least {d.minimum} files)' if d.minimum > 1 else ''}; get it: {d.get}" for d in missing]
        for line in record["missing"]:
            echo(f"  missing: {line}")
        record["status"] = "not verified"
        echo(f"  status: not verified (data absent under {data_dir})")
    else:
        metrics = evaluate_run(run_dir, [f"paths.data_dir={data_dir}", *(overrides or [])], out=eval_dir)
        status, rows = compare(e, metrics)
        limits = [o for o in overrides or [] if o.startswith("dataset.limit_test=") and o.split("=", 1)[1] not in ("", "null")]
        if limits and status != "measured":  # the authors' numbers are of the whole test set
            status = f"measured on a subset ({limits[-1]}; not checked)"
        elif metrics["dtype"] != "float64" and status != "measured":  # ... and measured in float64
            status = f"measured in {metrics['dtype']} (the authors' numbers are float64; not checked)"
        keys = dict.fromkeys(["test_acc", *(n.metric for n in e.authors_code)])
        record.update(status=status, comparison=rows, n_test=metrics["n_test"], dtype=metrics["dtype"],
                      ours={k: metrics.get(k) for k in keys if metrics.get(k) is not None},
                      firing_rate_per_layer=metrics.get("firing_rate_per_layer"),
                      sop_per_sample=metrics.get("sop_per_sample"), energy_per_step_pj=metrics.get("energy_per_step_pj"))
        for r in rows:
            verdict = {True: "ok", False: "DIFFERS", None: "not measured"}[r.get("within_tolerance")]
            tol = "" if r["tolerance"] is None else f" (tolerance {r['tolerance']}: {verdict})"
            echo(f"  {r['metric']}: authors' code {r['authors_code']}% | srnn_bench {r['ours']:.2f}%{tol}"
                 if r["ours"] is not None else f"  {r['metric']}: authors' code {r['authors_code']}% | srnn_bench -")
        echo(f"  srnn_bench test_acc {_pct(metrics['test_acc'])}% on {metrics['n_test']} samples ({metrics['dtype']}); "
             f"firing rate per layer {json.dumps({k: round(v, 4) for k, v in metrics['firing_rate_per_layer'].items()})}")
        echo(f"  status: {status}")
        write_json(eval_dir / layout.METRICS, {**metrics, "verify": record})
    write_json(eval_dir / VERIFY_FILE, record)
    if record_dir is not None:
        _copy_record(run_dir, Path(record_dir) / name)
        echo(f"  record -> {Path(record_dir) / name}")
    return record


def eval_dir_name(run_dir: Path, overrides: list[str] | None) -> str:
    """``eval`` for the run's own ``trainer.dtype``; ``eval_<dtype>`` when an override evaluates it in another
    precision (``zoo verify NAME trainer.dtype=float32``: how much float32 moves the accuracy)."""
    from omegaconf import OmegaConf

    from ..evaluate import EVAL_DIR
    from ..training.trainer import TrainerConfig

    own = TrainerConfig.from_node(OmegaConf.load(run_dir / layout.CONFIG).trainer).dtype
    asked = [o.split("=", 1)[1] for o in (overrides or []) if o.startswith("trainer.dtype=")]
    return EVAL_DIR if not asked or asked[-1] == own else f"{EVAL_DIR}_{asked[-1]}"


def _copy_record(run_dir: Path, dest: Path) -> None:
    """The run's text files (config, provenance, env, eval*/*.json|csv|yaml), never its checkpoints."""
    import shutil

    evals = sorted(f for d in run_dir.glob("eval*") if d.is_dir() for f in d.glob("*"))
    for src in [*(run_dir / n for n in (layout.CONFIG, layout.PROVENANCE, layout.ENV)), *evals]:
        if src.is_file() and src.suffix in (".json", ".csv", ".yaml"):
            target = dest / src.relative_to(run_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)


# -- table ---------------------------------------------------------------------------------------
def _authors_cell(e: Published) -> str:
    parts = []
    for n in e.authors_code:
        kind = "zero state" if n.tolerance is not None else ("notebook" if "notebook" in n.what else "file name")
        what = f", {n.metric.removeprefix('test_acc_')}" if n.metric != "test_acc" and n.tolerance is not None else ""
        parts.append(f"{n.value:g} ({kind}{what})")
    return "; ".join(parts)


def _ours_cell(rec: dict | None) -> str:
    if rec is None:
        return "not run"
    ours = rec.get("ours") or {}
    if not ours:
        return "-"
    shown = {k: v for k, v in ours.items() if k != "test_acc" or len(ours) == 1}
    label = lambda k: "acc" if k == "test_acc" else k.removeprefix("test_acc_")
    return "; ".join(f"{_pct(v)} ({label(k)})" for k, v in shown.items()) + f" on {rec.get('n_test')}"


def _read(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.is_file() else None


def build_table(results: Path, data_dir: str | Path) -> str:
    """The "Published models" table from the registry and the ``zoo verify`` records
    ``<results>/<name>/eval/verify.json`` (float64, the imports' own precision) and ``eval_float32/``."""
    lines = [
        "# Published models (Yin, Corradi & Bohte 2021)",
        "",
        (f"Generated by `python -m srnn_bench.zoo table` from `srnn_bench/zoo/registry.py` and the `zoo verify --record "
        f"{results}` records (`{results}/<name>/eval/verify.json`, float64; `eval_float32/`: the same evaluated with "
        f"`trainer.dtype=float32`). Paper: Table 1 of Yin et al. 2021 (`results/paper_values/{registry.PAPER_VALUES}`). "
        "Authors' code: *zero state* = the authors' own code run on the checkpoint with a deterministic zero initial "
        "state in float64 (`shared/reference/yin2021_checkpoints/README.md`), which `zoo verify` checks within 0.05 "
        "points; *notebook* = their evaluation notebook (random initial state); *file name* = the accuracy in the "
        "checkpoint's name (their training script's log). Data present: the files an evaluation needs (the registry's "
        "`data`), as `zoo verify` found them, else as found under the data directory when this table was generated."),
        "",
        "| checkpoint | task | paper | authors' code | srnn_bench (float64) | float32 | status | data present |",
        "|---|---|---|---|---|---|---|---|",
    ]
    notes = []
    for e in registry.ENTRIES:
        rec = _read(results / e.name / layout.EVAL / VERIFY_FILE)
        rec32 = _read(results / e.name / f"{layout.EVAL}_float32" / VERIFY_FILE)
        status = rec["status"] if rec else "-"
        if rec is not None and rec.get("status") != "not verified":
            present = "yes" if not rec.get("missing") else "no"
        else:
            present = "yes" if all(d.present(data_dir) for d in e.data) else "no"
        if e.not_reproducible:
            status = "not reproducible (see below)"
            notes.append(f"`{e.name}`: not reproducible: {e.not_reproducible}.")
        f32 = _ours_cell(rec32) if rec32 is not None else "-"
        lines.append(f"| `{e.name}` | {e.task} | {e.paper['accuracy']} | {_authors_cell(e)} | {_ours_cell(rec)} | {f32} "
                     f"| {status} | {present} |")
    return "\n".join([*lines, "", *notes]) + "\n"


README_BEGIN = "<!-- published-models table: generated by python -m srnn_bench.zoo table; do not edit -->"
README_END = "<!-- end of published-models table -->"


def quote_in_readme(readme: Path, table: str) -> str:
    """``readme``'s text with the table's rows and notes (not its title and legend) between the markers."""
    text = readme.read_text()
    if README_BEGIN not in text or README_END not in text:
        raise ZooError(f"{readme}: no '{README_BEGIN}' ... '{README_END}' block to replace")
    body = [line for line in table.splitlines() if line.startswith(("|", "`"))]
    head, rest = text.split(README_BEGIN, 1)
    return head + README_BEGIN + "\n" + "\n\n".join(["\n".join(b for b in body if b.startswith("|")),
                                                       "\n".join(b for b in body if b.startswith("`"))]) + "\n" + README_END + rest.split(README_END, 1)[1]


# -- command line ----------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m srnn_bench.zoo", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--data-dir", help="default: $SRNN_BENCH_DATA, else data")
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the published checkpoints")
    p_imp = sub.add_parser("import", help="import NAME or FILE as a run directory")
    p_imp.add_argument("source", help=f"one of {', '.join(REGISTRY)}, or a checkpoint file")
    p_imp.add_argument("--out", type=Path)
    p_imp.add_argument("--no-download", action="store_true")
    p_imp.add_argument("--as", dest="as_name", metavar="NAME", help="FILE is this network (when its parameters fit several)")
    p_ver = sub.add_parser("verify", help="import + evaluate + compare")
    p_ver.add_argument("name", help=", ".join(REGISTRY))
    p_ver.add_argument("--out", type=Path, help="run directory of the import (default: a new temporary one)")
    p_ver.add_argument("--no-download", action="store_true")
    p_ver.add_argument("--record", type=Path, help="also copy the run's text files (no checkpoint) to RECORD/NAME/ "
                                                    "(zoo table reads results/zoo/NAME/eval/verify.json)")
    p_ver.add_argument("overrides", nargs="*", help="evaluation overrides (python -m srnn_bench.evaluate), e.g. trainer.dtype=float32")
    p_tab = sub.add_parser("table", help=f"write results/{TABLE_OUT}")
    p_tab.add_argument("--results", type=Path, default=Path("results/zoo"))
    p_tab.add_argument("--out", type=Path, default=Path("results") / TABLE_OUT)
    p_tab.add_argument("--readme", type=Path, default=Path("README.md"),
                       help="quote the table in this file's marked block (--readme '' to skip)")
    args, extra = ap.parse_known_args(argv)  # key=value overrides may follow the options too
    bad = [a for a in extra if a.startswith("-") or "=" not in a or args.command != "verify"]
    if bad:
        ap.error(f"unrecognized arguments: {' '.join(bad)}")
    if args.command == "verify":
        args.overrides = [*args.overrides, *extra]
    data_dir = args.data_dir or registry.default_data_dir()

    from ..data import DataError

    try:
        if args.command == "list":
            print(f"{'name':<15} {'task':<32} {'paper':>6}  {'file':<8} architecture")
            for r in list_rows(data_dir):
                print(f"{r['name']:<15} {r['task']:<32} {r['paper']:>6}  {r['file']:<8} {r['architecture']}")
            print(f"(files looked for under {Path(data_dir) / registry.LAYOUT_DIR}/<path in {registry.REPOSITORY}>)")
        elif args.command == "import":
            out = import_checkpoint(args.source, args.out, data_dir, not args.no_download, args.as_name)
            print(f"imported {args.source} -> {out} (resume={out} fine-tunes it; python -m srnn_bench.evaluate {out})")
        elif args.command == "verify":
            rec = verify(args.name, args.out, data_dir, args.overrides, not args.no_download, record_dir=args.record)
            return 1 if rec["status"] == "differs" else 0
        elif args.command == "table":
            from ..utils.io import atomic_write_text

            text = build_table(args.results, data_dir)
            atomic_write_text(args.out, text)
            print(text, end="")
            print(f"-> {args.out}")
            if str(args.readme) not in ("", "."):
                atomic_write_text(args.readme, quote_in_readme(args.readme, text))
                print(f"-> {args.readme} (quoted)")
    except (ValueError, DataError, FileNotFoundError, KeyError) as e:  # ZooError, UnsafeCheckpointError are ValueErrors
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        print(f"srnn_bench.zoo: error: {msg}", file=sys.stderr)
        return 2
    return 0
