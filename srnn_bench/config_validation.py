"""Check a composed config before any work is done; every failure is ONE line naming the key.

:func:`validate_config` runs at the top of :func:`srnn_bench.run.run`, before data are loaded. Each key
is checked once, by the code that owns it; this module adds only what no builder checks:

* every group's ``name`` must be a registered choice (the list of valid ones is in the message);
* numbers must be possible, checked *generically by key name* wherever the key occurs in the config
  (groups whose builder checks every key of its own, :data:`BUILT_GROUPS`, aside), so configs added
  later (other neurons, datasets) are covered without edits here: e.g. any ``tau*`` > 0 (a
  ``{init, mean, std}`` time constant: :func:`srnn_bench.neurons.time_constants.check_time_constant`),
  any ``dt`` / ``dt_ms`` / ``lr`` > 0, ``bits`` an integer >= 1. A builder does not check these again;
* then a cheap build without data: the surrogate, the encoder, the model (real sizes, one input and two
  classes, on the CPU, the global RNG left as it was) and the trainer's checks against that model
  (:func:`srnn_bench.training.trainer.check_trainer_config`: ``on_nonfinite``, ``loss``, ``tbptt_*``), so
  every choice and combination the builders refuse (``neuron.u0``, ``model.readout.kind``,
  ``model.recurrent`` per layer, truncated BPTT of a bidirectional model, ...) is refused here too,
  with the builder's own message.

:func:`validate_against_data` runs right after the dataset is built (the only point where it is
known whether inputs are spikes and labels per step) and before the model is built: an encoder that
does not fit the data, or a loss that does not fit the labels, is refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from omegaconf import DictConfig, ListConfig, OmegaConf

from .utils.rules import FRACTION, INTEGER, LR_MULTS, NON_NEGATIVE, POSITIVE, _walk  # noqa: F401 - re-exported

SKIP_GROUPS = {"hydra", "paths"}
BUILT_GROUPS = {"surrogate", "encoder"}
"""Groups whose builder checks every key of its own (:func:`srnn_bench.surrogates.build_surrogate`,
:func:`srnn_bench.encoders.build_encoder`): the generic rules leave them to it. So do the keys the model's
builders own (layer sizes ``model.hidden`` / ``head``, ``model.readout.block_steps``, ``neuron.dropout``, ...)."""


def _fail(msg: str) -> None:
    raise ValueError(msg)


# -- group choices --------------------------------------------------------------------------------
def registries() -> dict[str, Sequence[str]]:
    """``group -> valid names``, read from the code's own registries (so they grow with it)."""
    from .data import DATASETS
    from .encoders import ENCODERS
    from .models import MODELS
    from .neurons import CELLS
    from .surrogates import SURROGATES
    from .training.loggers import LOGGERS
    from .training.optim import OPTIMIZERS, SCHEDULERS

    return {
        "dataset": sorted(DATASETS),
        "encoder": sorted(ENCODERS),
        "model": sorted(MODELS),
        "neuron": sorted(CELLS),
        "surrogate": sorted(SURROGATES),
        "optimizer": sorted(OPTIMIZERS),
        "scheduler": sorted(SCHEDULERS),
        "logger": list(LOGGERS),
    }


def _check_choices(cfg: Mapping) -> None:
    for group, valid in registries().items():
        node = cfg.get(group)
        if node is None:
            _fail(f"config group '{group}' is missing; valid choices: {', '.join(valid)}")
        name = node.get("name") if isinstance(node, Mapping) else None
        if name not in valid:
            _fail(f"unknown {group} '{name}' ({group}.name); valid choices: {', '.join(valid)}")


def _plain(cfg) -> dict:
    if isinstance(cfg, (DictConfig, ListConfig)):
        return OmegaConf.to_container(cfg, resolve=True)
    return dict(cfg)


def check_generic(cfg) -> dict:
    """The generic part of :func:`validate_config`: group names and the by-key-name number rules (no
    builder runs, so keys no builder takes pass). Returns ``cfg`` as a plain dict."""
    try:
        plain = _plain(cfg)
    except Exception as e:  # noqa: BLE001 - an interpolation that cannot resolve
        _fail(f"config does not resolve: {str(e).splitlines()[0]}")
    _check_choices(plain)
    for k, v in plain.items():
        if k not in SKIP_GROUPS and k not in BUILT_GROUPS:
            _walk(str(k), v)
    return plain


def validate_config(cfg) -> None:
    """Raise ``ValueError`` (one line, naming the key) for the first impossible setting of ``cfg``."""
    plain = check_generic(cfg)
    # the builders' own checks, by building what needs no data
    import torch

    from .encoders import build_encoder
    from .models import build_model, srnn
    from .surrogates import build_surrogate
    from .training.tbptt import check_steps
    from .training.trainer import TrainerConfig, check_device, check_trainer_config, resolve_dtype

    surrogate = build_surrogate(plain["surrogate"])
    build_encoder(plain["encoder"])
    quiet, was = srnn.log, srnn.log.disabled  # its warnings (model.recurrent ignored) come once, from the run
    quiet.disabled = True
    try:
        with torch.random.fork_rng(devices=[]):  # the run's random numbers do not depend on validating
            model = build_model(plain["model"], 1, 2, plain["neuron"], surrogate)
    finally:
        quiet.disabled = was
    check_steps(plain["trainer"].get("tbptt_steps"))  # as given: TrainerConfig converts it to an int
    trainer = TrainerConfig.from_node(plain["trainer"])
    check_trainer_config(trainer, model)
    check_device(trainer.device)
    resolve_dtype(trainer.dtype)
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
    from .training.losses import check_labels

    enc, ds = cfg["encoder"]["name"], cfg["dataset"]["name"]
    if data.binary_input and not accepts_spikes(enc):
        _fail(f"encoder={enc} encodes analog input, but dataset '{ds}' is already spikes; use encoder=identity")
    check_labels(cfg["trainer"]["loss"], data.per_step_labels, ds)
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
