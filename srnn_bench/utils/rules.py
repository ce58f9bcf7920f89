"""The generic rules by key name: a number is checked by the last component of its dotted key wherever the
key occurs (``dataset.val_fraction`` in [0, 1), any ``tau*`` a time constant, any ``dt_ms`` > 0, ...), so
configs added later are covered without edits. One definition, used by
:func:`srnn_bench.config_validation.validate_config` on a whole config and by the builders for the keys
they read from Python callers (:func:`check_value`). Nothing of the package below it but
:mod:`srnn_bench.utils.checks`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from .checks import check_choice

TAU_INITS = ("normal", "uniform", "constant")
"""``init`` of a ``{init, mean, std}`` time constant (:mod:`srnn_bench.neurons.time_constants`)."""

POSITIVE = {
    "gamma", "dt", "dt_ms", "batch_size", "eval_batch_size", "lr", "tau_lr_mult", "tau_lr_mult_readout",
    "b_j0", "step_size", "num_threads", "checkpoint_every_min", "limit_train",
    "limit_test", "grad_clip", "n_mels", "n_fft", "hop_length", "win_length", "sample_rate", "n_bins",
}
"""Keys that must be > 0 wherever they occur (``null`` means "off" / "default" and is allowed)."""
NON_NEGATIVE = {"epochs", "skip_steps", "std", "beta", "weight_decay", "patience", "checkpoint_every_steps",
                "eta_min", "momentum", "num_workers"}
INTEGER = {"batch_size", "eval_batch_size", "epochs", "skip_steps", "bits", "step_size", "num_threads",
           "limit_train", "limit_test", "checkpoint_every_steps", "patience", "seed", "num_workers"}
FRACTION = {"val_fraction", "test_fraction"}  # in [0, 1)
LR_MULTS = {"tau_lr_mult", "tau_lr_mult_readout"}  # named tau* but learning-rate factors, not time constants


def _fail(msg: str) -> None:
    raise ValueError(msg)


def check_time_constant(key: str, mean: float, std: float = 0.0, init: str = "normal") -> None:
    """The one check of a ``{init, mean, std}`` time constant; ``key`` names it in the message
    (``neuron.tau_m``; :func:`srnn_bench.config_validation.validate_config` passes the config key)."""
    check_choice(f"{key}.init", init, TAU_INITS)
    if isinstance(mean, bool) or not isinstance(mean, (int, float)) or not mean > 0:
        raise ValueError(f"{key}.mean must be > 0 (a time constant), got {mean}")
    if isinstance(std, bool) or not isinstance(std, (int, float)) or not std >= 0:
        raise ValueError(f"{key}.std must be >= 0, got {std}")


def _number(key: str, v) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        _fail(f"{key} must be a number, got {v!r}")
    if not math.isfinite(v):
        _fail(f"{key} must be finite, got {v}")
    return v


def _check_tau(key: str, v) -> None:
    """A time constant: a positive number, or ``{init, mean, std}`` (srnn_bench.neurons.time_constants)."""
    if isinstance(v, Mapping):
        if "mean" in v:
            check_time_constant(key, v["mean"], v.get("std", 0.0), v.get("init", "normal"))
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
    if name in FRACTION and not 0 <= _number(key, v) < 1:
        _fail(f"{key} must be in [0, 1), got {v}")


def _walk(key: str, node) -> None:
    name = key.rsplit(".", 1)[-1].split("[", 1)[0]
    if name.startswith("tau") and name not in LR_MULTS and isinstance(node, Mapping) and "mean" in node:
        _check_tau(key, node)
        return
    if isinstance(node, Mapping):
        for k, v in node.items():
            _walk(f"{key}.{k}" if key else str(k), v)
    elif isinstance(node, (list, tuple)) and not name.startswith("tau"):
        for i, v in enumerate(node):
            if isinstance(v, (Mapping, list, tuple)):
                _walk(f"{key}[{i}]", v)
            else:
                _check_leaf(f"{key}[{i}]", name, v)
    else:
        _check_leaf(key, name, node)



def check_value(key: str, value) -> None:
    """The rules for ``value`` at dotted ``key`` (a leaf, or a node walked key by key): one-line ``ValueError``."""
    _walk(key, value)
