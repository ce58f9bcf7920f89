"""Issue #14: silent wrong models, mislabelled results, one-line errors. One test (or parametrised case)
per numbered item and per case the issue names; commands go through the real CLI where it names one."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import ROOT, compose
from test_reliability import SMALL
from test_resume import make_npz

from srnn_bench.config_schema import SchemaError, apply_schema, convert, expected_types, option_file, schema_defaults
from srnn_bench.data import DataError, build_data
from srnn_bench.run import run
from srnn_bench.utils.runs import iter_run_dirs, summarize_runs

TINY = [*SMALL, "trainer.epochs=1", "trainer.progress=false", "trainer.device=cpu"]


def cli(tmp_path: Path, *args: str, module: str = "srnn_bench", timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "SRNN_BENCH_OUTPUTS": str(tmp_path / "out"),
           "SRNN_BENCH_DATA": str(tmp_path / "data")}
    return subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


def one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> str:
    """Exit 2, no traceback, exactly one ``... error: ...`` line on stderr, containing every needle."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:], proc.stdout[-2000:])
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr[-3000:]
    lines = [line for line in proc.stderr.splitlines() if "error:" in line]
    assert len(lines) == 1, proc.stderr
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


def snapshot(d: Path) -> dict:
    return {str(p.relative_to(d)): (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted(d.rglob("*")) if p.is_file()}


# -- 1. typed schema --------------------------------------------------------------------------------------
def test_cli_booleans_are_converted_at_composition(tmp_path):
    npz = make_npz(tmp_path / "d.npz")
    run_dir = tmp_path / "r"
    proc = cli(tmp_path, *TINY, f"dataset.path={npz}", "model.bidirectional=no", "model.recurrent=no",
               "trainer.progress=off", "neuron.train_tau_m=no", f"hydra.run.dir={run_dir}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    saved = compose_saved(run_dir)
    assert saved["model"]["bidirectional"] is False and saved["model"]["recurrent"] is False
    assert saved["trainer"]["progress"] is False and saved["neuron"]["train_tau_m"] is False
    state = torch.load(run_dir / "checkpoints" / "last.pt", weights_only=False)["model"]
    assert not any(k.startswith("layers_bw") or "backward" in k for k in state)  # not bidirectional
    assert not any("w_rec" in k for k in state)  # no recurrent synapses
    init = torch.load(run_dir / "checkpoints" / "init.pt", weights_only=False)["model"]
    assert torch.equal(state["layers.0.cell.tau_m"], init["layers.0.cell.tau_m"])  # tau_m not trained
    assert "it/s" not in proc.stderr  # no progress bar
    # converted at composition: Hydra composed (and recorded) the typed values
    assert "model.bidirectional=false" in (run_dir / ".hydra" / "overrides.yaml").read_text()


def test_command_line_values_are_rewritten_typed_for_hydra():
    from srnn_bench.cli import check_key_overrides

    typed: dict[str, str] = {}
    args = ["model.bidirectional=no,yes", "trainer.epochs='3'", "trainer.lr=1", "model.recurrent=[on,off]",
            "trainer.seed=2"]
    assert check_key_overrides(args, typed) is None
    assert typed == {"model.bidirectional=no,yes": "model.bidirectional=false,true",
                     "trainer.epochs='3'": "trainer.epochs=3", "trainer.lr=1": "trainer.lr=1.0",
                     "model.recurrent=[on,off]": "model.recurrent=[true,false]"}


def compose_saved(run_dir: Path) -> dict:
    import yaml

    return yaml.safe_load((run_dir / "config.yaml").read_text())


def test_a_bool_key_refuses_maybe_on_the_command_line(tmp_path):
    one_line_error(cli(tmp_path, "model.bidirectional=maybe"), "model.bidirectional must be a bool", "'maybe'")
    assert not (tmp_path / "out").exists()  # refused before Hydra made a directory


def _all_keys():
    """(option, dotted key, default) of every leaf of every group option file and of the root config."""
    from srnn_bench.config_schema import CONFIG_DIR, UNTYPED_GROUPS

    def leaves(prefix, node):
        for k, v in node.items():
            if isinstance(v, dict) and not k.startswith("tau"):
                yield from leaves(f"{prefix}{k}.", v)
            else:
                yield f"{prefix}{k}", v

    out = []
    for folder in sorted(p for p in CONFIG_DIR.iterdir() if p.is_dir() and p.name not in UNTYPED_GROUPS):
        for f in sorted(folder.glob("*.yaml")):
            cfg = compose([f"{folder.name}={f.stem}"]) if folder.name not in ("trainer", "paths") else compose()
            assert option_file(folder.name, cfg[folder.name]) == f  # the schema reads the file that was chosen
            defaults = schema_defaults(cfg)[folder.name]
            out += [(f"{folder.name}={f.stem}", f"{folder.name}.{k}", v) for k, v in leaves("", defaults)]
    return out


def test_every_key_of_every_group_is_typed_from_its_default():
    keys = _all_keys()
    n_bool = n_int = n_float = 0
    for option, key, default in keys:
        types = expected_types(key, default)
        if types == ("bool",):
            n_bool += 1
            assert convert(key, default, "yes") is True and convert(key, default, "off") is False, key
            with pytest.raises(SchemaError, match=f"{key} must be a bool"):
                convert(key, default, "maybe")
        elif types == ("int",):
            n_int += 1
            assert convert(key, default, "3") == 3
            with pytest.raises(SchemaError, match=f"{key} must be an integer"):
                convert(key, default, 2.5)
        elif types == ("float",):
            n_float += 1
            assert convert(key, default, 2) == 2.0 and isinstance(convert(key, default, 2), float)
            with pytest.raises(SchemaError, match=f"{key} must be a number"):
                convert(key, default, [0.1, 0.2])
        elif types == ("list",):
            with pytest.raises(SchemaError, match=f"{key} must be a list"):
                convert(key, default, 128)
        elif types == ("str",) and default is not None:
            with pytest.raises(SchemaError, match=f"{key} must be a string"):
                convert(key, default, [1, 2])
    assert len(keys) > 200 and n_bool > 20 and n_int > 30 and n_float > 40, (len(keys), n_bool, n_int, n_float)


def test_a_key_added_to_a_yaml_gets_its_type_from_its_default(tmp_path, monkeypatch):
    import shutil

    import srnn_bench.config_schema as schema

    configs = tmp_path / "configs"
    shutil.copytree(schema.CONFIG_DIR, configs)
    with open(configs / "trainer" / "default.yaml", "a") as f:
        f.write("new_flag: false\nnew_count: 4\n")
    monkeypatch.setattr(schema, "CONFIG_DIR", configs)
    schema._load.cache_clear()
    try:
        cfg = compose(["+trainer.new_flag=on", "+trainer.new_count='7'"])
        apply_schema(cfg)
        assert cfg.trainer.new_flag is True and cfg.trainer.new_count == 7
        cfg = compose(["+trainer.new_flag=maybe"])
        with pytest.raises(SchemaError, match="trainer.new_flag must be a bool"):
            apply_schema(cfg)
    finally:
        schema._load.cache_clear()


def _experiments():
    from srnn_bench.config_schema import CONFIG_DIR

    return sorted(p.stem for p in (CONFIG_DIR / "experiment").glob("*.yaml"))


def test_every_experiment_file_fits_the_schema():
    """Experiment files (also ones added later) set values of the groups' types; a mismatch fails here."""
    for name in _experiments():
        cfg = compose([f"experiment={name}"])
        apply_schema(cfg)


# -- 2. reused run and sweep directories -----------------------------------------------------------------------
def test_reused_run_directory_with_another_config_is_left_exactly_as_found(tmp_path):
    npz = make_npz(tmp_path / "d.npz")
    run_dir = tmp_path / "r"
    assert cli(tmp_path, *TINY, f"dataset.path={npz}", f"hydra.run.dir={run_dir}").returncode == 0
    before = snapshot(run_dir)
    proc = cli(tmp_path, *TINY, f"dataset.path={npz}", "trainer.lr=0.5", f"hydra.run.dir={run_dir}")
    one_line_error(proc, "holds a checkpoint of a different config", "trainer.lr: 0.01 -> 0.5")
    assert snapshot(run_dir) == before
    (rec,) = list(iter_run_dirs(run_dir))
    assert rec.ok and rec.config["trainer"]["lr"] == 0.01


def test_reused_sweep_directory_is_refused_untouched_and_reports_read_each_runs_own_config(tmp_path):
    npz = make_npz(tmp_path / "d.npz")
    sweep = tmp_path / "sweep"
    proc = cli(tmp_path, "-m", *TINY, f"dataset.path={npz}", "trainer.lr=0.01,0.02", f"hydra.sweep.dir={sweep}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    before = snapshot(sweep)
    proc = cli(tmp_path, "-m", *TINY, f"dataset.path={npz}", "trainer.lr=0.03,0.04", f"hydra.sweep.dir={sweep}")
    one_line_error(proc, f"{sweep / '0'} holds a checkpoint of a different config", "trainer.lr: 0.01 -> 0.03")
    assert snapshot(sweep) == before
    # even when a later session's files claim otherwise, reports read each run's identity from its config.yaml
    (sweep / "0" / ".hydra" / "overrides.yaml").write_text("- trainer.lr=0.03\n")
    summary = summarize_runs(sweep)
    ok = [r["overrides"] for r in summary["runs"] if r["status"] == "ok"]
    assert ok == [["trainer.lr=0.01"], ["trainer.lr=0.02"]]
    from srnn_bench.reporting.sweeps import main as sweeps_main

    sweeps_main([str(sweep)])
    rows = list(csv.DictReader(open(sweep / "sweep.csv")))
    assert [(r["job"], r["trainer.lr"], r["status"]) for r in rows] == [("0", "0.01", "ok"), ("1", "0.02", "ok")]


def test_a_sweep_with_a_failed_job_exits_nonzero_after_finishing_the_others(tmp_path):
    npz = make_npz(tmp_path / "d.npz")
    sweep = tmp_path / "sweep"
    proc = cli(tmp_path, "-m", *TINY, f"dataset.path={npz}", "trainer.lr=-1,0.02", f"hydra.sweep.dir={sweep}")
    assert proc.returncode == 1 and "1 job(s) did not finish" in proc.stderr, proc.stderr[-2000:]
    assert (sweep / "1" / "metrics.json").is_file() and (sweep / "0" / "error.txt").is_file()


# -- 3. run names and table matching -------------------------------------------------------------------------
def test_runs_are_named_by_what_they_are(tmp_path):
    npz = make_npz(tmp_path / "d.npz")
    proc = cli(tmp_path, *TINY, f"dataset.path={npz}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    (run_dir,) = list((tmp_path / "out" / "runs" / "mnist1d_alif+dataset=npz").iterdir())
    assert json.loads((run_dir / "metrics.json").read_text())["experiment"] == "mnist1d_alif+dataset=npz"
    assert compose(["neuron=lstm", "dataset=npz"]).run_name == "mnist1d_alif+dataset=npz+neuron=lstm"
    assert compose(["experiment=shd_alif"]).run_name == "shd_alif"
    assert compose(["experiment=shd_alif", "neuron=alif"]).run_name == "shd_alif"  # the experiment's own choice


def test_table2_matches_runs_by_their_resolved_config_not_their_name(tmp_path):
    from omegaconf import OmegaConf

    from srnn_bench.reporting import table2
    from srnn_bench.utils.io import atomic_write_text, write_json

    def fake_run(name: str, overrides: list[str], experiment: str) -> None:
        d = tmp_path / "runs" / name
        atomic_write_text(d / "config.yaml", OmegaConf.to_yaml(compose(overrides)))
        write_json(d / "metrics.json", {"experiment": experiment, "test_acc": 0.5, "energy_per_step_pj": 1.0})

    fake_run("a", ["experiment=mnist1d_alif", "dataset=npz"], "mnist1d_alif")  # an old run, mislabelled
    fake_run("b", ["experiment=shd_alif"], "anything")
    text = table2.build([tmp_path / "runs"], tmp_path / "t.md").read_text()
    assert "| mnist1d_alif (custom) |" in text and "| mnist1d_alif |" not in text
    assert "| shd_alif |" in text


# -- 4. binary inputs from the values ---------------------------------------------------------------------
@pytest.mark.parametrize("dtype, values, binary, expected", [
    (np.uint8, "analog", None, False), (np.uint8, "spikes", None, True), (np.float32, "spikes", None, True),
    (np.float32, "analog", None, False), (np.uint8, "spikes", False, False),
], ids=["uint8-analog", "uint8-spikes", "float-spikes", "float-analog", "spikes-declared-analog"])
def test_binary_input_is_decided_by_the_values(tmp_path, dtype, values, binary, expected):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (30, 5, 2)) if values == "analog" else rng.integers(0, 2, (30, 5, 2))
    path = tmp_path / "d.npz"
    np.savez(path, x=x.astype(dtype), y=rng.integers(0, 3, 30))
    d = build_data({"name": "npz", "path": str(path), "test_fraction": 0.2, "binary": binary}, str(tmp_path))
    assert d.binary_input is expected


def test_uint8_analog_trains_as_analog_with_an_analog_encoder_and_macs(run_cfg, tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "u8.npz"
    np.savez(path, x=rng.integers(0, 256, (40, 6, 2)).astype(np.uint8), y=rng.integers(0, 3, 40))
    m = run(run_cfg([*SMALL, f"dataset.path={path}", "trainer.epochs=1"]))  # encoder=population: refused before
    assert m["test_acc"] is not None and m["mac_per_step"] > 0
    with pytest.raises(DataError, match="dataset.binary=true, but 'x' holds values other than 0 and 1"):
        build_data({"name": "npz", "path": str(path), "binary": True}, str(tmp_path))


# -- 5. unknown keys --------------------------------------------------------------------------------------
def test_misspelt_key_hint_does_not_lead_to_an_ignored_key(tmp_path):
    proc = cli(tmp_path, "trainer.epoch=3")
    line = one_line_error(proc, "unknown key 'trainer.epoch'", "did you mean trainer.epochs?")
    assert "+trainer" not in line


@pytest.mark.parametrize("arg, needle", [("+trainer.epoch=3", "unknown key 'trainer.epoch'"),
                                         ("+optimizer.foo=1", "unknown key 'optimizer.foo'")])
def test_unknown_keys_stay_refused_with_plus(tmp_path, arg, needle):
    one_line_error(cli(tmp_path, arg), needle)


def test_an_open_node_takes_new_keys():
    from srnn_bench.cli import check_key_overrides

    assert check_key_overrides(["experiment=ecg_alif", "+model.readout.neuron.b_j0=0.1"]) is None
    assert check_key_overrides(["+model.readout.neuron={b_j0: 0.1}"]) is None


# -- 6. evaluation and thread count ------------------------------------------------------------------------
def test_evaluation_does_not_depend_on_eval_batch_size_or_repetition(run_cfg, tmp_path):
    from srnn_bench.encoders import build_encoder
    from srnn_bench.models import build_model
    from srnn_bench.surrogates import build_surrogate
    from srnn_bench.training import Trainer, TrainerConfig
    from srnn_bench.training.loggers import build_logger
    from srnn_bench.training.optim import build_optimizer

    npz = make_npz(tmp_path / "d.npz")
    small = [a for a in SMALL if not a.startswith("encoder.")]
    cfg = run_cfg([*small, f"dataset.path={npz}", "encoder=rate", "encoder.num_steps=null", "neuron.u0=uniform_unit"])
    data = build_data(cfg.dataset, str(tmp_path))
    enc = build_encoder(cfg.encoder)
    surrogate = build_surrogate(cfg.surrogate)
    model = build_model(cfg.model, enc.out_features(data.n_inputs), data.n_classes, cfg.neuron, surrogate)

    def evaluate(ebs: int) -> dict:
        tc = TrainerConfig(epochs=1, batch_size=16, eval_batch_size=ebs, progress=False, seed=0, loss="last")
        tr = Trainer(model, enc, data, build_optimizer(model, cfg.optimizer, 0.01), None, tc, tmp_path / "e",
                     torch.device("cpu"), build_logger(cfg.logger, tmp_path / "e", {}))
        return tr.evaluate(data.test, "test")

    a, b = evaluate(500), evaluate(7)
    torch.rand(10)  # the global RNG moved on: no effect either
    c = evaluate(500)
    assert a == c  # the same weights evaluated twice: the same numbers, bit for bit
    for k in ("test_acc", "test_anytime_acc", "test_frame_acc"):  # counts: exact whatever the batching
        assert a[k] == b[k], k
    for k in ("test_loss", "firing_rate", "sop_per_sample"):  # float sums in another order
        assert a[k] == pytest.approx(b[k], rel=1e-6), k


def test_one_and_two_threads_train_bitwise_the_same(tmp_path):
    npz = make_npz(tmp_path / "d.npz")
    outs = []
    for n in (1, 2):
        run_dir = tmp_path / f"t{n}"
        # the default population encoder + ALIF fused kernels (CSR input projections), 2 epochs
        proc = cli(tmp_path, *[a for a in TINY if "num_threads" not in a and "epochs" not in a], "trainer.epochs=2",
                   f"trainer.num_threads={n}", f"dataset.path={npz}", "trainer.batch_size=50",
                   f"hydra.run.dir={run_dir}")
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert json.loads((run_dir / "env.json").read_text())["torch_threads"] == n
        m = json.loads((run_dir / "metrics.json").read_text())
        state = torch.load(run_dir / "checkpoints" / "last.pt", weights_only=False)["model"]
        outs.append(({k: m[k] for k in ("train_loss", "test_loss", "test_acc", "firing_rate")}, state))
    assert outs[0][0] == outs[1][0]
    assert all(torch.equal(outs[0][1][k], outs[1][1][k]) for k in outs[0][1])


# -- tracebacks where one line was promised ------------------------------------------------------------------
@pytest.mark.parametrize("args, needles", [
    (["trainer.lr=[0.1,0.2]"], ["trainer.lr must be a number", "[0.1, 0.2]"]),
    (["model.hidden=128"], ["model.hidden must be a list", "128"]),
    (["~trainer.lr"], ["~trainer.lr", "give it a value"]),
], ids=["lr-list", "hidden-int", "delete-lr"])
def test_bad_values_one_line_before_any_directory(tmp_path, args, needles):
    one_line_error(cli(tmp_path, *args), *needles)
    assert not (tmp_path / "out").exists()


def _run_dir_error(tmp_path, args, *needles) -> Path:
    run_dir = tmp_path / "r"
    one_line_error(cli(tmp_path, *args, f"hydra.run.dir={run_dir}"), *needles)
    assert (run_dir / "error.txt").read_text().splitlines()[0].startswith(needles[0])
    return run_dir


def test_unknown_device_one_line_and_error_txt(tmp_path):
    _run_dir_error(tmp_path, ["trainer.device=tpu"], "unknown trainer.device 'tpu'", "auto, cpu, cuda")


def test_npy_instead_of_npz_one_line(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((3, 4, 2), np.float32))
    npy = tmp_path / "x.npy"
    _run_dir_error(tmp_path, ["dataset=npz", f"dataset.path={npy}"], f"{npy}: a single array")
    _run_dir_error(tmp_path, ["dataset=npz", "dataset.path=x.npy"], "x.npy: file not found")


def test_npz_with_no_time_steps_one_line(tmp_path):
    np.savez(tmp_path / "t0.npz", x=np.zeros((10, 0, 2), np.float32), y=np.zeros(10, int))
    t0 = tmp_path / "t0.npz"
    _run_dir_error(tmp_path, ["dataset=npz", f"dataset.path={t0}"], f"{t0}: 'x' has no time steps")


def test_run_or_data_directory_under_a_file_one_line(tmp_path):
    (tmp_path / "file").write_text("x")
    proc = cli(tmp_path, f"hydra.run.dir={tmp_path / 'file' / 'run'}")
    one_line_error(proc, "hydra.run.dir=", "is a file, not a directory")
    one_line_error(cli(tmp_path, f"paths.data_dir={tmp_path / 'file' / 'data'}"), "paths.data_dir=", "is a file")
    cfg = compose([f"paths.run_dir={tmp_path / 'file' / 'run'}", "trainer.progress=false"])
    with pytest.raises(ValueError, match="run directory .*: cannot use it as a directory .*is a file"):
        run(cfg)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into read-only directories")
def test_read_only_run_directory_one_line(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        one_line_error(cli(tmp_path, f"hydra.run.dir={ro / 'run'}"), "hydra.run.dir=", "is not writable")
        one_line_error(cli(tmp_path, f"hydra.run.dir={ro}"), "hydra.run.dir=", "is not writable")
    finally:
        ro.chmod(0o755)


def _resumable(tmp_path) -> Path:
    npz = make_npz(tmp_path / "d.npz")
    run_dir = tmp_path / "done"
    assert cli(tmp_path, *[a for a in TINY if "epochs" not in a], "trainer.epochs=3", f"dataset.path={npz}",
               f"hydra.run.dir={run_dir}").returncode == 0
    return run_dir


def test_resume_with_a_broken_or_incomplete_config_one_line(tmp_path):
    run_dir = _resumable(tmp_path)
    good = (run_dir / "config.yaml").read_text()
    (run_dir / "config.yaml").write_text("trainer: {lr: [unclosed\n")
    one_line_error(cli(tmp_path, f"resume={run_dir}"), f"{run_dir / 'config.yaml'}: not a readable config")
    (run_dir / "config.yaml").write_text("trainer: {lr: 0.1}\n")
    one_line_error(cli(tmp_path, f"resume={run_dir}"), f"{run_dir / 'config.yaml'}: lacks the config group")
    (run_dir / "config.yaml").write_text(good)
    # and resume=DIR trainer.epochs=1 on a 3-epoch run leaves its config alone
    one_line_error(cli(tmp_path, f"resume={run_dir}", "trainer.epochs=1"), "has done 3 epochs", "trainer.epochs=1")
    assert compose_saved(run_dir)["trainer"]["epochs"] == 3


def test_energy_with_a_misspelt_key_one_line_and_without_arguments_works(tmp_path):
    one_line_error(cli(tmp_path, "model.hiden=[64]", module="srnn_bench.energy"), "unknown key 'model.hiden'",
                   "did you mean model.hidden?")
    # the default dataset (MNIST-1D) states no sizes in its config: they come from the dataset itself
    one_line_error(cli(tmp_path, module="srnn_bench.energy"), "no firing rate for layer0, layer1: give --rate")
    proc = cli(tmp_path, "--rate", "0.05", module="srnn_bench.energy")
    assert proc.returncode == 0, proc.stderr[-2000:]
    # 1 channel population-coded into 16 currents, 40 steps
    assert "(mnist1d_alif): 16 analog inputs" in proc.stdout and "per sample (40 steps)" in proc.stdout


def test_iter_run_dirs_sorts_numbers_and_names_together(tmp_path):
    for name in ("seed2", "10", "1", "2", "a"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "metrics.json").write_text("{}")
    assert [r.run_dir.name for r in iter_run_dirs(tmp_path)] == ["1", "2", "10", "a", "seed2"]


# -- misleading messages and smaller faults -------------------------------------------------------------------
def test_npz_array_faults_are_named_at_load(tmp_path):
    from srnn_bench.data.datasets.npz import load_npz

    x = np.zeros((6, 4, 2), np.float32)
    x[3, 2, 1] = np.inf
    np.savez(tmp_path / "inf.npz", x=x, y=np.zeros(6, int))
    with pytest.raises(DataError, match=r"'x' holds inf at index \[3, 2, 1\]"):
        load_npz(tmp_path / "inf.npz")
    np.savez(tmp_path / "empty.npz", x=np.zeros((0, 4, 2), np.float32), y=np.zeros(0, int))
    with pytest.raises(DataError, match=r"'x' has no samples \(N = 0\)") as e:
        load_npz(tmp_path / "empty.npz")
    assert "test_fraction" not in str(e.value)
    np.savez(tmp_path / "unl.npz", x=np.zeros((6, 4, 2), np.float32), y=np.full((6, 4), -100))
    with pytest.raises(DataError, match="every label is -100"):
        build_data({"name": "npz", "path": str(tmp_path / "unl.npz")}, str(tmp_path))


def test_skip_steps_is_checked_against_the_encoded_sequence(run_cfg, tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "s.npz", x=rng.random((40, 1, 3)).astype(np.float32), y=rng.integers(0, 2, 40))  # T = 1
    base = ["dataset=npz", f"dataset.path={tmp_path / 's.npz'}", "encoder=rate", "encoder.num_steps=20",
            "model.hidden=[8]", "trainer.epochs=1"]
    assert run(run_cfg([*base, "trainer.skip_steps=10"]))["test_acc"] is not None  # 10 < the 20 encoded steps
    with pytest.raises(ValueError, match=r"skip_steps=25 must be < the sequence length \(20 steps of dataset 'npz'"):
        run(run_cfg([*base, "trainer.skip_steps=25", f"paths.run_dir={tmp_path / 'r2'}"]))


def test_zero_epochs_evaluates_the_untrained_network(run_cfg, tmp_path):
    npz = make_npz(tmp_path / "d.npz")
    m = run(run_cfg([*SMALL, f"dataset.path={npz}", "trainer.epochs=0"]))
    assert 0.0 <= m["test_acc"] <= 1.0 and m["epochs"] == 0
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["test_acc"] == m["test_acc"]


def test_written_files_honour_the_umask(tmp_path):
    from srnn_bench.utils.io import write_json

    old = os.umask(0o022)
    try:
        path = write_json(tmp_path / "m.json", {"a": 1})
        assert path.stat().st_mode & 0o777 == 0o644
        os.umask(0o077)
        assert write_json(tmp_path / "n.json", {}).stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)


def test_sweep_heatmaps_only_for_swept_keys(tmp_path):
    from omegaconf import OmegaConf

    from srnn_bench.reporting.sweeps import main as sweeps_main
    from srnn_bench.utils.io import atomic_write_text, write_json

    for job, h in enumerate((0.0, 0.15)):
        d = tmp_path / "one" / str(job)
        atomic_write_text(d / "config.yaml", OmegaConf.to_yaml(compose([f"surrogate.h={h}"])))
        write_json(d / "metrics.json", {"test_acc": 0.5, "firing_rate": 0.1})
    assert sweeps_main([str(tmp_path / "one"), "--x", "surrogate.s", "--y", "surrogate.h"]) == 0
    assert not (tmp_path / "one" / "sweep_test_acc.png").exists()  # surrogate.s was not swept
    assert "no heatmap: surrogate.s not swept" in (tmp_path / "one" / "sweep_summary.txt").read_text()


def test_finished_run_with_corrupt_checkpoint_gets_no_error_txt_beside_its_metrics(tmp_path):
    run_dir = _resumable(tmp_path)
    for name in ("last.pt", "prev.pt"):
        (run_dir / "checkpoints" / name).write_bytes(b"garbage")
    proc = cli(tmp_path, f"resume={run_dir}", "trainer.epochs=4")
    one_line_error(proc, "no readable checkpoint")
    assert not (run_dir / "error.txt").exists()
    (rec,) = list(iter_run_dirs(run_dir))
    assert rec.ok and rec.metrics["epochs"] == 3


def test_a_job_refused_inside_a_sweep_counts_as_not_finished(tmp_path):
    """The fallback when the command line cannot check job directories itself (another sweeper, e.g.
    ``hparams_search``): the refusing job leaves a marker in the sweep directory, never in its own."""
    from omegaconf import OmegaConf

    from srnn_bench.utils.callbacks import MultirunSummary, record_refused
    from srnn_bench.utils.io import write_json

    write_json(tmp_path / "0" / "metrics.json", {"test_acc": 0.5})
    record_refused(tmp_path, "0", "holds a checkpoint of a different config")
    MultirunSummary().on_multirun_end(OmegaConf.create({"hydra": {"sweep": {"dir": str(tmp_path)}}}))
    summary = json.loads((tmp_path / "multirun_summary.json").read_text())
    assert summary["refused"] == [{"job": "0", "error": "holds a checkpoint of a different config"}]
    assert MultirunSummary.last_failed == 1 and not (tmp_path / ".refused").exists()
    MultirunSummary.last_failed = 0
