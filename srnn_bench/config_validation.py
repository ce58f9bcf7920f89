"""Check a composed config before any work is done; every failure is ONE line naming the key.

:func:`validate_config` runs at the top of :func:`srnn_bench.run.run`, before data are loaded:

* every group's ``name`` must be a registered choice (the list of valid ones is in the message);
* numbers must be possible, checked *generically by key name* wherever the key occurs in the
  config, so configs added later (other neurons, datasets, encoders) are covered without edits
  here: e.g. any ``tau*`` > 0 (a ``{init, mean, std}`` time constant: mean > 0, std >= 0), any
  ``sigma`` / ``s`` / ``dt`` / ``dt_ms`` > 0, ``h`` >= 0, ``bits`` an integer >= 1;
* combinations that cannot work (``trainer.loss=spike_count`` without a spiking readout; truncated BPTT
  with ``tbptt_update=chunk`` and a loss that is not a sum over steps, or with a bidirectional model).

:func:`validate_against_data` runs right after the dataset is built (the only point where it is
known whether inputs are spikes and labels per step) and before the model is built: an encoder that
does not fit the data, or a loss that does not fit the labels, is refused.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

from omegaconf import DictConfig, ListConfig, OmegaConf

# -- generic rules by key name (the last component of the dotted key) ------------------------------
POSITIVE = {
    "sigma", "s", "gamma", "dt", "dt_ms", "batch_size", "eval_batch_size", "lr", "tau_lr_mult", "tau_lr_mult_readout", "width", "slope",
    "b_j0", "step_size", "num_threads", "l_plus", "l_minus", "checkpoint_every_min", "limit_train",
    "limit_test", "grad_clip", "n_mels", "n_fft", "hop_length", "win_length", "sample_rate", "n_bins",
    "hold_steps", "block_steps",
}
"""Keys that must be > 0 wherever they occur (``null`` means "off" / "default" and is allowed)."""
NON_NEGATIVE = {"h", "epochs", "skip_steps", "std", "beta", "weight_decay", "patience", "checkpoint_every_steps",
                "eta_min", "momentum", "dropout", "num_workers"}
INTEGER = {"batch_size", "eval_batch_size", "epochs", "skip_steps", "bits", "step_size", "num_threads",
           "limit_train", "limit_test", "checkpoint_every_steps", "patience", "seed", "num_workers", "hold_steps",
           "block_steps"}
FRACTION = {"val_fraction", "test_fraction"}  # in [0, 1)
UNIT_OPEN = {"dropout"}  # in [0, 1)
SIZE_LISTS = {"hidden", "hidden_sizes", "head"}  # lists of layer sizes, each a positive integer
SIZES = {"hidden_size", "n_hidden"}
LR_MULTS = {"tau_lr_mult", "tau_lr_mult_readout"}  # named tau* but learning-rate factors, not time constants
SKIP_GROUPS = {"hydra", "paths"}


def _fail(msg: str) -> None:
    raise ValueError(msg)


def _number(key: str, v) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        _fail(f"{key} must be a number, got {v!r}")
    if not math.isfinite(v):
        _fail(f"{key} must be finite, got {v}")
    return v


def _check_tau(key: str, v) -> None:
    """A time constant: a positive number, or ``{init, mean, std}`` (srnn_bench.neurons.time_constants)."""
    from .neurons.time_constants import TAU_INITS

    if isinstance(v, Mapping):
        if "mean" in v:
            if not _number(f"{key}.mean", v["mean"]) > 0:
                _fail(f"{key}.mean must be > 0 (a time constant), got {v['mean']}")
            if "std" in v and not _number(f"{key}.std", v["std"]) >= 0:
                _fail(f"{key}.std must be >= 0, got {v['std']}")
            if "init" in v and v["init"] not in TAU_INITS:
                _fail(f"unknown {key}.init '{v['init']}'; valid choices: {', '.join(TAU_INITS)}")
        return
    if isinstance(v, (list, tuple)):
        for i, x in enumerate(v):
            _check_tau(f"{key}[{i}]", x)
        return
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return  # e.g. tau_init: normal, tau_learnable: true
    if "std" in key.rsplit(".", 1)[-1]:
        if not _number(key, v) >= 0:
            _fail(f"{key} must be >= 0, got {v}")
    elif not _number(key, v) > 0:
        _fail(f"{key} must be > 0 (a time constant), got {v}")


def _check_leaf(key: str, name: str, v) -> None:
    if v is None:
        return
    if name.startswith("tau") and name not in LR_MULTS:
        _check_tau(key, v)
        return
    if name in SIZE_LISTS and isinstance(v, (list, tuple)):
        # an empty list is allowed: no hidden layer, the input feeds the readout (De Geeter's 1-layer net)
        for i, x in enumerate(v):
            if isinstance(x, bool) or not isinstance(x, int) or x <= 0:
                _fail(f"{key}[{i}] must be a positive integer (a layer size), got {x!r}")
        return
    if name in SIZES:
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            _fail(f"{key} must be a positive integer (a layer size), got {v!r}")
        return
    if name == "bits":
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            _fail(f"{key} must be an integer >= 1, got {v!r}")
        return
    if name in INTEGER and (isinstance(v, bool) or not isinstance(v, int)):
        _fail(f"{key} must be an integer, got {v!r}")
    if name in POSITIVE and not _number(key, v) > 0:
        _fail(f"{key} must be > 0, got {v}")
    if name in NON_NEGATIVE and not _number(key, v) >= 0:
        _fail(f"{key} must be >= 0, got {v}")
    if (name in FRACTION or name in UNIT_OPEN) and not 0 <= _number(key, v) < 1:
        _fail(f"{key} must be in [0, 1), got {v}")


def _walk(key: str, node) -> None:
    name = key.rsplit(".", 1)[-1].split("[", 1)[0]
    if name.startswith("tau") and name not in LR_MULTS and isinstance(node, Mapping) and "mean" in node:
        _check_tau(key, node)
        return
    if isinstance(node, Mapping):
        for k, v in node.items():
            _walk(f"{key}.{k}" if key else str(k), v)
    elif isinstance(node, (list, tuple)) and name not in SIZE_LISTS and not name.startswith("tau"):
        for i, v in enumerate(node):
            if isinstance(v, (Mapping, list, tuple)):
                _walk(f"{key}[{i}]", v)
            else:
                _check_leaf(f"{key}[{i}]", name, v)
    else:
        _check_leaf(key, name, node)


# -- group choices --------------------------------------------------------------------------------
def registries() -> dict[str, Sequence[str]]:
    """``group -> valid names``, read from the code's own registries (so they grow with it)."""
    from .data import DATASETS
    from .encoders import ENCODERS
    from .models import MODELS
    from .neurons import CELLS
    from .surrogates import SURROGATES
    from .training.optim import OPTIMIZERS, SCHEDULERS

    return {
        "dataset": sorted(DATASETS),
        "encoder": sorted(ENCODERS),
        "model": sorted(MODELS),
        "neuron": sorted(CELLS),
        "surrogate": sorted(SURROGATES),
        "optimizer": sorted(OPTIMIZERS),
        "scheduler": sorted(SCHEDULERS),
        "logger": ["csv", "none", "wandb"],
    }


def _check_choices(cfg: Mapping) -> None:
    from .models import READOUTS
    from .neurons import S0_SCHEMES, U0_SCHEMES
    from .neurons.integrator import READOUT_U0
    from .training.losses import LOSS_MODES
    from .training.trainer import ON_NONFINITE

    for group, valid in registries().items():
        node = cfg.get(group)
        if node is None:
            _fail(f"config group '{group}' is missing; valid choices: {', '.join(valid)}")
        name = node.get("name") if isinstance(node, Mapping) else None
        if name not in valid:
            _fail(f"unknown {group} '{name}' ({group}.name); valid choices: {', '.join(valid)}")
    tr = cfg.get("trainer") or {}
    if tr.get("loss") not in LOSS_MODES:
        _fail(f"unknown trainer.loss '{tr.get('loss')}'; valid choices: {', '.join(LOSS_MODES)}")
    if tr.get("on_nonfinite", "stop") not in ON_NONFINITE:
        _fail(f"unknown trainer.on_nonfinite '{tr.get('on_nonfinite')}'; valid choices: {', '.join(ON_NONFINITE)}")
    kind = (cfg["model"].get("readout") or {}).get("kind")
    if kind is not None and kind not in READOUTS:
        _fail(f"unknown model.readout.kind '{kind}'; valid choices: {', '.join(READOUTS)}")
    from .models.srnn import BACKWARD_INPUTS, BIDIRECTIONAL_MERGES

    for key, valid in (("bidirectional_merge", BIDIRECTIONAL_MERGES), ("backward_input", BACKWARD_INPUTS)):
        v = cfg["model"].get(key)
        if v is not None and v not in valid:
            _fail(f"unknown model.{key} '{v}'; valid choices: {', '.join(valid)}")
    u0 = cfg["neuron"].get("u0")
    if u0 is not None and u0 not in U0_SCHEMES:
        _fail(f"unknown neuron.u0 '{u0}'; valid choices: {', '.join(U0_SCHEMES)}")
    s0 = cfg["neuron"].get("s0")
    if s0 is not None and s0 not in S0_SCHEMES:
        _fail(f"unknown neuron.s0 '{s0}'; valid choices: {', '.join(S0_SCHEMES)}")
    ro_u0 = (cfg["model"].get("readout") or {}).get("u0")
    if ro_u0 is not None and ro_u0 not in READOUT_U0:
        _fail(f"unknown model.readout.u0 '{ro_u0}'; valid choices: {', '.join(READOUT_U0)}")


def _check_combinations(cfg: Mapping) -> None:
    tr, model = cfg["trainer"], cfg["model"]
    if tr.get("loss") == "spike_count" and (model.get("readout") or {}).get("kind") != "spiking":
        _fail("trainer.loss=spike_count needs a spiking readout: set model.readout.kind=spiking")
    from .training.tbptt import check_tbptt

    check_tbptt(tr.get("tbptt_steps"), tr.get("tbptt_update") or "sequence", tr.get("loss"))
    if tr.get("tbptt_steps") and model.get("bidirectional"):
        _fail(f"trainer.tbptt_steps={tr['tbptt_steps']} cannot chunk a bidirectional model (model.bidirectional=true: "
              "its backward half needs the whole sequence); use trainer.tbptt_steps=0")
    block = (model.get("readout") or {}).get("block_steps") or 1
    if tr.get("tbptt_steps") and block != 1:
        _fail(f"trainer.tbptt_steps={tr['tbptt_steps']} cannot chunk a block readout (model.readout.block_steps="
              f"{block}); use trainer.tbptt_steps=0")
    rec, hidden = model.get("recurrent"), model.get("hidden")
    if isinstance(rec, (list, tuple)) and isinstance(hidden, (list, tuple)) and len(rec) != len(hidden):
        _fail(f"model.recurrent has {len(rec)} entries for {len(hidden)} hidden layers (model.hidden)")
    device = str(tr.get("device"))
    if not re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", device):
        _fail(f"unknown trainer.device '{device}'; valid choices: auto, cpu, cuda, cuda:N, mps")
    if cfg.get("resume") is not None and not isinstance(cfg.get("resume"), str):
        _fail(f"resume must be a run directory path, got {cfg.get('resume')!r}")


def _plain(cfg) -> dict:
    if isinstance(cfg, (DictConfig, ListConfig)):
        return OmegaConf.to_container(cfg, resolve=True)
    return dict(cfg)


def validate_config(cfg) -> None:
    """Raise ``ValueError`` (one line, naming the key) for the first impossible setting of ``cfg``."""
    try:
        plain = _plain(cfg)
    except Exception as e:  # noqa: BLE001 - an interpolation that cannot resolve
        _fail(f"config does not resolve: {str(e).splitlines()[0]}")
    _check_choices(plain)
    for k, v in plain.items():
        if k not in SKIP_GROUPS:
            _walk(str(k), v)
    _check_combinations(plain)
    # the builders' own checks, which need no data: surrogate and encoder hyper-parameters
    from .encoders import build_encoder
    from .surrogates import build_surrogate

    build_surrogate(plain["surrogate"])
    build_encoder(plain["encoder"])
    if plain["scheduler"].get("name") == "plateau":
        from .training.optim import plateau_options

        plateau_options(plain["scheduler"])


# -- against the data -------------------------------------------------------------------------------
def accepts_spikes(encoder_name: str) -> bool:
    """Whether an encoder may be fed data that are already spikes: ``identity``, or an encoder class
    declaring ``accepts_spikes = True``. Every other encoder codes *analog* values (level crossings,
    Gaussian fields, rates, latencies): on spike data it is a configuration mistake."""
    from .encoders import ENCODERS

    cls = ENCODERS.get(encoder_name)
    return bool(getattr(cls, "accepts_spikes", encoder_name == "identity"))


def validate_against_data(cfg, data, encoder=None) -> None:
    """Refuse an encoder or loss that does not fit the dataset just built (one line, naming the key)."""
    from .training.losses import LOSS_MODES

    enc, ds = cfg["encoder"]["name"], cfg["dataset"]["name"]
    if data.binary_input and not accepts_spikes(enc):
        _fail(f"encoder={enc} encodes analog input, but dataset '{ds}' is already spikes; use encoder=identity")
    loss = cfg["trainer"]["loss"]
    if loss == "per_step" and not data.per_step_labels:
        seq = ", ".join(m for m in LOSS_MODES if m != "per_step")
        _fail(f"trainer.loss=per_step needs per-step labels, but dataset '{ds}' has one label per sequence; use trainer.loss={seq.replace(', ', '|')}")
    if loss != "per_step" and data.per_step_labels:
        _fail(f"trainer.loss={loss} needs one label per sequence, but dataset '{ds}' has per-step labels; use trainer.loss=per_step")
    hold = int(cfg["encoder"].get("hold_steps") or 1) if enc == "identity" else 1
    block = int((cfg["model"].get("readout") or {}).get("block_steps") or 1)
    if data.per_step_labels and hold != block:
        _fail(f"per-step labels need one readout step per input step: model.readout.block_steps ({block}) must "
              f"equal encoder.hold_steps ({hold})")
    skip = int(cfg["trainer"].get("skip_steps") or 0)
    steps = encoder.out_steps(data.n_steps) if encoder is not None and data.n_steps else data.n_steps
    if skip and steps and skip >= steps:
        what = f"dataset '{ds}'" + (f" encoded by encoder={enc}" if steps != data.n_steps else "")
        _fail(f"trainer.skip_steps={skip} must be < the sequence length ({steps} steps of {what})")
