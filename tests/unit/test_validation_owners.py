"""Each key is validated once, by the code that owns it (issue #15): ``validate_config`` builds what needs
no data (surrogate, encoder, model, the trainer's checks against that model) instead of re-implementing
the builders' checks. For every key whose check moved, the same one-line message comes from both entry
points: ``validate_config`` on a composed config, and building the object directly."""

from __future__ import annotations

import pytest
import torch
from conftest import compose

from srnn_bench.config_validation import validate_config
from srnn_bench.encoders import build_encoder
from srnn_bench.models import build_model
from srnn_bench.surrogates import build_surrogate
from srnn_bench.training import tbptt
from srnn_bench.training.losses import loss_and_correct
from srnn_bench.training.trainer import Trainer, TrainerConfig, resolve_device, resolve_dtype


def build(cfg):
    """The model of ``cfg``, built directly (no validate_config), as :func:`srnn_bench.run.run` does."""
    return build_model(cfg.model, 3, 4, cfg.neuron, build_surrogate(cfg.surrogate))


def trainer(cfg, tmp_path):
    """The one trainer, built directly on the model of ``cfg`` (no data are needed to refuse its config)."""
    model = build(cfg)
    tr = TrainerConfig.from_node(cfg.trainer)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    return Trainer(model, torch.nn.Identity(), None, opt, None, tr, tmp_path, torch.device("cpu"), None)


CASES = [
    # (overrides, the one-line message, how the owner is reached directly)
    (["neuron.u0=gauss"], "unknown neuron.u0 'gauss'; valid choices: zero, uniform, uniform_unit", "model"),
    (["neuron.s0=rand"], "unknown neuron.s0 'rand'; valid choices: zero, u0", "model"),
    (["model.readout.u0=uniform"], "unknown model.readout.u0 'uniform'; valid choices: zero, uniform_unit", "model"),
    (["model.readout.kind=lstm"], "unknown model.readout.kind 'lstm'; valid choices: integrator, spiking, linear, "
     "population", "model"),
    (["model.readout.block_steps=0"], "model.readout.block_steps must be > 0 (a whole number of steps), got 0",
     "model"),
    (["model.bidirectional_merge=sum"], "unknown model.bidirectional_merge 'sum'; valid choices: mean, concat",
     "model"),
    (["model.backward_input=x"], "unknown model.backward_input 'x'; valid choices: reversed, authors", "model"),
    (["model.recurrent=[true]"], "model.recurrent has 1 entries for 2 hidden layers", "model"),
    (["model.hidden=[16,0]"], "model.hidden[1] must be a positive integer (a layer size), got 0", "model"),
    (["model.head=[0]"], "model.head must list positive layer sizes, got [0]", "model"),
    (["neuron.tau_m.mean=-1"], "neuron.tau_m.mean must be > 0 (a time constant), got -1", "model"),
    (["model.readout.tau_m.mean=-3"], "model.readout.tau_m.mean must be > 0 (a time constant), got -3", "model"),
    (["neuron.tau_adp.init=gamma"], "unknown neuron.tau_adp.init 'gamma'; valid choices: normal, uniform, constant",
     "model"),
    (["neuron=gru", "neuron.dropout=1.0"], "neuron.dropout must be in [0, 1), got 1.0", "model"),
    (["trainer.on_nonfinite=ignore"], "unknown trainer.on_nonfinite 'ignore'; valid choices: stop, skip", "trainer"),
    (["trainer.loss=xent"], "unknown trainer.loss 'xent'; valid choices: last, mean", "trainer"),
    (["trainer.loss=spike_count"], "trainer.loss=spike_count needs a spiking readout: set model.readout.kind=spiking",
     "trainer"),
    (["trainer.tbptt_steps=10", "model.bidirectional=true"],
     "trainer.tbptt_steps=10 cannot chunk a bidirectional model (model.bidirectional=true", "trainer"),
    (["trainer.tbptt_steps=10", "model.readout.block_steps=2"],
     "trainer.tbptt_steps=10 cannot chunk a block readout (model.readout.block_steps=2)", "trainer"),
    (["trainer.device=gpu"], "unknown trainer.device 'gpu'; valid choices: auto, cpu, cuda, cuda:N, mps", "device"),
    (["trainer.dtype=half"], "unknown trainer.dtype 'half'; valid choices: float32, float64", "dtype"),
    (["surrogate.sigma=0"], "surrogate.sigma must be > 0, got 0.0", "surrogate"),
    (["surrogate.h=-0.1"], "surrogate.h must be >= 0, got -0.1", "surrogate"),
    (["encoder=level_crossing", "encoder.l_plus=0"], "encoder.l_plus and encoder.l_minus must be > 0", "encoder"),
    (["encoder=identity", "encoder.hold_steps=0"], "encoder.hold_steps must be an integer >= 1, got 0", "encoder"),
]


def _one_line(excinfo, message: str) -> None:
    text = str(excinfo.value)
    assert message in text and "\n" not in text, text


@pytest.mark.parametrize("overrides, message, owner", CASES, ids=[" ".join(c[0]) for c in CASES])
def test_one_check_two_entry_points(overrides, message, owner, tmp_path):
    cfg = compose(overrides)
    with pytest.raises(ValueError) as e:
        validate_config(cfg)
    _one_line(e, message)
    with pytest.raises(ValueError) as e:
        if owner == "model":
            build(cfg)
        elif owner == "trainer":
            trainer(cfg, tmp_path)
        elif owner == "device":
            resolve_device(cfg.trainer.device)
        elif owner == "dtype":
            resolve_dtype(cfg.trainer.dtype)
        elif owner == "surrogate":
            build_surrogate(cfg.surrogate)
        else:
            build_encoder(cfg.encoder)
    _one_line(e, message)


def test_tbptt_model_check_is_the_trainers():
    """The block-readout refusal lives in tbptt.check_model (with the bidirectional one), not in validation."""
    model = build(compose(["model.readout.block_steps=2"]))
    with pytest.raises(ValueError, match=r"^trainer.tbptt_steps=4 cannot chunk a block readout"):
        tbptt.check_model(model, 4)
    tbptt.check_model(model, 0)  # full BPTT: nothing to refuse


def test_validation_builds_without_touching_the_global_rng():
    """validate_config builds the model (its random initial weights) without moving the run's RNG."""
    torch.manual_seed(123)
    before = torch.get_rng_state()
    validate_config(compose(["experiment=shd_alif"]))
    assert torch.equal(before, torch.get_rng_state())


def test_a_key_the_neuron_does_not_take_is_refused_by_validation():
    """The generic by-name rules accept a number they do not know; the neuron's builder refuses the key,
    now before any data are loaded (earlier, the run refused it only when it built the model)."""
    from srnn_bench.config_validation import check_generic

    from omegaconf import OmegaConf

    cfg = OmegaConf.to_container(compose(), resolve=True)
    cfg["neuron"]["bits"] = 4
    check_generic(cfg)
    with pytest.raises(ValueError, match=r"^neuron 'alif' has no key\(s\) \['bits'\]"):
        validate_config(cfg)


def test_resume_directory_checked_once(tmp_path):
    """``resume=DIR`` is checked by run.check_resume_dir, for the CLI pre-check and for run() alike."""
    from srnn_bench.__main__ import check_resume
    from srnn_bench.run import resumed_config

    (tmp_path / "failed").mkdir()
    (tmp_path / "failed" / "config.yaml").write_text("a: 1\n")
    for d, message in ((tmp_path / "nope", "no config.yaml there (not a run directory)"),
                       (tmp_path / "failed", "nothing to resume (start a new run)")):
        expected = f"resume={d}: "
        got = check_resume([f"resume={d}"])
        assert got.startswith(expected) and message in got and "\n" not in got, got
        with pytest.raises(ValueError) as e:
            resumed_config(compose([f"resume={d}"]))
        assert str(e.value) == got


def test_check_choice_is_one_line_with_the_choices_in_order():
    from srnn_bench.utils.checks import check_choice

    check_choice("neuron.u0", "zero", ("zero", "uniform"))
    with pytest.raises(ValueError, match=r"^unknown neuron.u0 'gauss'; valid choices: zero, uniform$"):
        check_choice("neuron.u0", "gauss", ("zero", "uniform"))
    with pytest.raises(ValueError, match=r"^unknown trainer.dtype 'half'; valid choices: float32, float64$"):
        check_choice("trainer.dtype", "half", {"float32": 1, "float64": 2})


def test_loss_that_does_not_fit_the_labels_checked_once():
    """losses.check_labels: validate_against_data names the dataset (tests/test_validation.py); the loss
    itself, called on a batch directly, says the same of the batch."""
    from srnn_bench.models import ModelOutput

    out = ModelOutput(torch.zeros(5, 2, 3), {})
    with pytest.raises(ValueError, match=r"^trainer.loss=per_step needs per-step labels, but this batch has one label "
                                         r"per sequence; use trainer.loss=last\|mean"):
        loss_and_correct("per_step", out, torch.zeros(2, dtype=torch.long))
    per_step = r"^trainer.loss=last needs one label per sequence, but this batch has per-step labels; use trainer.loss="
    with pytest.raises(ValueError, match=per_step + "per_step$"):
        loss_and_correct("last", out, torch.zeros(5, 2, dtype=torch.long))


def test_the_generic_rules_are_one_definition_for_configs_and_builders():
    """``dataset.val_fraction`` / ``dataset.dt_ms``: the by-name rule of srnn_bench.utils.rules refuses them in a
    composed config (validate_config) and, with the same line, when a reader gets them from Python."""

    from srnn_bench.data.base import split_validation
    from srnn_bench.data.datasets.shd_ssc import bins_of
    from srnn_bench.utils.rules import check_value

    with pytest.raises(ValueError, match=r"^dataset.val_fraction must be in \[0, 1\), got 1.5$"):
        validate_config(compose(["dataset.val_fraction=1.5"]))
    with pytest.raises(ValueError, match=r"^dataset.val_fraction must be in \[0, 1\), got 1.5$"):
        split_validation(torch.zeros(4, 2, 1), torch.zeros(4), 1.5, 0)
    with pytest.raises(ValueError, match=r"^dataset.dt_ms must be > 0, got 0$"):
        bins_of({"dt_ms": 0, "duration_ms": 1000})
    with pytest.raises(ValueError, match=r"^neuron.tau_m.mean must be > 0 \(a time constant\), got -1$"):
        check_value("neuron.tau_m", {"init": "normal", "mean": -1, "std": 0})
    check_value("dataset.val_fraction", 0.2)  # a valid value passes
