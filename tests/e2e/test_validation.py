"""Config validation (issue #7): impossible values and unknown choices/keys fail before any work,
with ONE line naming the key (and the valid choices)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, compose

from srnn_bench.config_validation import check_generic, validate_config

BAD = [
    ("neuron.tau_m.mean=-1", "neuron.tau_m.mean must be > 0"),
    ("neuron.tau_adp.mean=0", "neuron.tau_adp.mean must be > 0"),
    ("neuron.tau_m.std=-2", "neuron.tau_m.std must be >= 0"),
    ("neuron.tau_m.init=gamma", "unknown neuron.tau_m.init 'gamma'; valid choices: normal, uniform, constant"),
    ("model.readout.tau_m.mean=-3", "model.readout.tau_m.mean must be > 0"),
    ("model.layer_overrides=[{tau_m:{mean:-1}}]", "model.layer_overrides[0].tau_m.mean must be > 0"),
    ("surrogate.sigma=0", "surrogate.sigma must be > 0"),
    ("surrogate.s=-1", "surrogate.s must be > 0"),
    ("surrogate.h=-0.1", "surrogate.h must be >= 0"),
    ("surrogate.gamma=0", "surrogate.gamma must be > 0"),
    ("trainer.batch_size=0", "trainer.batch_size must be > 0"),
    ("trainer.eval_batch_size=-5", "trainer.eval_batch_size must be > 0"),
    ("trainer.batch_size=2.5", "trainer.batch_size must be an integer"),
    ("model.hidden=[16,0]", "model.hidden[1] must be a positive integer"),
    ("trainer.lr=0", "trainer.lr must be > 0"),
    ("trainer.lr=abc", "trainer.lr must be a number, got 'abc'"),
    ("trainer.epochs=-1", "trainer.epochs must be >= 0"),
    ("trainer.checkpoint_every_steps=-1", "trainer.checkpoint_every_steps must be >= 0"),
    ("trainer.checkpoint_every_min=0", "trainer.checkpoint_every_min must be > 0"),
    ("trainer.on_nonfinite=ignore", "unknown trainer.on_nonfinite 'ignore'; valid choices: stop, skip"),
    ("trainer.loss=xent", "unknown trainer.loss 'xent'; valid choices: last, mean"),
    ("trainer.loss=spike_count", "trainer.loss=spike_count needs a spiking readout: set model.readout.kind=spiking"),
    ("dataset.val_fraction=1.0", "dataset.val_fraction must be in [0, 1)"),
    ("neuron.dt=0", "neuron.dt must be > 0"),
    ("encoder.n=1", "encoder.n must be >= 2"),
    ("scheduler.step_size=0", "scheduler.step_size must be > 0"),
    # keys of configs other helpers add (PLIF bits, SHD dt_ms): checked wherever they occur
    ("+neuron.bits=0", "neuron.bits must be an integer >= 1"),
    ("+neuron.bits=2.5", "neuron.bits must be an integer >= 1"),
    ("+dataset.dt_ms=0", "dataset.dt_ms must be > 0"),
    ("+dataset.dt_ms=-4", "dataset.dt_ms must be > 0"),
    ("+neuron.tau_syn=-1", "neuron.tau_syn must be > 0 (a time constant)"),
    ("+neuron.tau_m_std=-1", "neuron.tau_m_std must be >= 0"),
    ("model.recurrent=[true]", "model.recurrent has 1 entries for 2 hidden layers"),
    # the `name` fields: a config whose file picks an unregistered option
    ("neuron.name=izhikevich", "unknown neuron 'izhikevich' (neuron.name); valid choices: alif, gru, lif, lstm"),
    ("surrogate.name=sigmoid", "unknown surrogate 'sigmoid' (surrogate.name); valid choices:"),
    ("dataset.name=shd9", "unknown dataset 'shd9' (dataset.name); valid choices:"),
    ("model.readout.kind=lstm", "unknown model.readout.kind 'lstm'; valid choices: integrator, spiking"),
    ("neuron.s0=rand", "unknown neuron.s0 'rand'; valid choices: zero, u0"),
    ("model.readout.u0=uniform", "unknown model.readout.u0 'uniform'; valid choices: zero, uniform_unit"),
]


@pytest.fixture(scope="module")
def base_cfg():
    return compose()


def with_override(cfg, override: str):
    """Apply one command-line override to a copy of ``cfg`` (Hydra's parser; no re-composition: fast)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf

    o = OverridesParser.create().parse_override(override)
    cfg = OmegaConf.create(OmegaConf.to_container(cfg))
    OmegaConf.update(cfg, o.key_or_group, o.value(), merge=False, force_add=True)
    return cfg


@pytest.mark.parametrize("override, message", BAD, ids=[b[0] for b in BAD])
def test_impossible_value_one_line_naming_key(base_cfg, override, message):
    with pytest.raises(ValueError) as e:
        validate_config(with_override(base_cfg, override))
    text = str(e.value)
    assert message in text and "\n" not in text, text


def test_valid_configs_pass(base_cfg):
    validate_config(base_cfg)
    validate_config(compose(["neuron=lif", "surrogate=gaussian", "encoder=level_crossing", "scheduler=plateau"]))
    for ok in ("+neuron.bits=4", "+dataset.dt_ms=4", "trainer.checkpoint_every_steps=null", "trainer.grad_clip=1.0",
               "+neuron.tau_std=0", "+neuron.tau_init=normal", "+neuron.tau_learnable=true", "+model.layers=[{a:1}]"):
        check_generic(with_override(base_cfg, ok))  # the generic rules; a key alif does not take: its builder's


def test_run_validates_before_any_work(run_cfg, tmp_path):
    from srnn_bench.run import run

    with pytest.raises(ValueError, match="surrogate.sigma must be > 0"):
        run(run_cfg(["surrogate.sigma=-0.5"]))
    assert not (tmp_path / "run").exists() and not (tmp_path / "data").exists()  # nothing written, no data built


def _npz(path, spikes=False, per_step=False):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, size=(20, 8, 3)).astype(np.uint8) if spikes else rng.normal(size=(20, 8, 3)).astype(np.float32)
    y = rng.integers(0, 2, size=(20, 8) if per_step else 20)
    np.savez(path, x=x, y=y)
    return path


@pytest.mark.parametrize(
    "spikes, per_step, overrides, message",
    [
        (True, False, ["encoder=level_crossing"], "encoder=level_crossing encodes analog input, but dataset 'npz' is already spikes; use encoder=identity"),
        (True, False, ["encoder=population"], "encoder=population encodes analog input"),
        (False, False, ["encoder=identity", "trainer.loss=per_step"], "trainer.loss=per_step needs per-step labels, but dataset 'npz' has one label per sequence"),
        (False, True, ["encoder=identity", "trainer.loss=last"], "trainer.loss=last needs one label per sequence, but dataset 'npz' has per-step labels; use trainer.loss=per_step"),
        (False, False, ["encoder=identity", "trainer.skip_steps=8"], "trainer.skip_steps=8 must be < the sequence length (8 steps"),
    ],
)
def test_encoder_or_loss_that_does_not_fit_the_data(run_cfg, tmp_path, spikes, per_step, overrides, message):
    from srnn_bench.run import run

    path = _npz(tmp_path / "d.npz", spikes, per_step)
    with pytest.raises(ValueError) as e:
        run(run_cfg(["dataset=npz", f"dataset.path={path}", *overrides]))
    assert message in str(e.value) and "\n" not in str(e.value)
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_fitting_encoder_and_loss_pass(run_cfg, tmp_path):
    from srnn_bench.config_validation import validate_against_data
    from srnn_bench.data import build_data

    cfg = run_cfg(["dataset=npz", f"dataset.path={_npz(tmp_path / 's.npz', spikes=True)}", "encoder=identity"])
    validate_against_data(cfg, build_data(cfg.dataset, str(tmp_path)))
    cfg = run_cfg(["dataset=npz", f"dataset.path={_npz(tmp_path / 'p.npz', per_step=True)}", "trainer.loss=per_step"])
    validate_against_data(cfg, build_data(cfg.dataset, str(tmp_path)))


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["trainer.epoch=3"], "unknown key 'trainer.epoch'; valid keys of trainer: batch_size"),
        (["dataset.path=x.npz"], "unknown key 'dataset.path'; valid keys of dataset:"),  # mnist1d has no path
        (["trainer.lrr=0.1,0.2", "--multirun"], "unknown key 'trainer.lrr'"),
        (["model.readout.tau=3"], "unknown key 'model.readout.tau'; valid keys of model.readout: alpha, block_steps, group, kind"),
        (["nosuch.key=1"], "unknown key 'nosuch.key'; valid top-level keys:"),
        (["dataset=npz", "dataset.path=x.npz"], None),
        (["dataset=npz,mnist1d", "dataset.path=x.npz", "-m"], None),  # first sweep value picks the group
        (["trainer.lr=0.1,0.2", "~logger", "hydra.run.dir=/tmp/x"], None),
        (["+trainer.extra=1"], "unknown key 'trainer.extra'; valid keys of trainer:"),  # + adds no unknown key (#14)
        (["experiment=mnist1d_alif", "trainer.seed=1", "resume=/some/dir"], None),
    ],
)
def test_unknown_key_precheck(argv, expected):
    from srnn_bench.cli import check_key_overrides

    got = check_key_overrides(argv)
    if expected is None:
        assert got is None
    else:
        assert got is not None and expected in got and "\n" not in got, got


def test_unknown_key_cli_one_line():
    proc = subprocess.run([sys.executable, "-m", "srnn_bench", "trainer.epoch=3"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown key 'trainer.epoch'" in lines[0] and "epochs" in lines[0], proc.stderr


def test_resume_of_a_non_run_directory_is_refused_before_anything_is_written(tmp_path):
    from srnn_bench.__main__ import check_resume

    assert check_resume([f"resume={tmp_path / 'nope'}"]).startswith(f"resume={tmp_path / 'nope'}: no config.yaml there")
    (tmp_path / "failed").mkdir()
    (tmp_path / "failed" / "config.yaml").write_text("a: 1\n")
    assert "nothing to resume" in check_resume([f"resume={tmp_path / 'failed'}"])
    assert check_resume(["trainer.lr=1"]) is None and check_resume(["resume=null"]) is None
    assert not (tmp_path / "nope").exists()
