"""scheduler=plateau: torch ReduceLROnPlateau options, and the rule of Ponghiran & Roy's code
(wponghiran/imp-snns-for-sl run_exp.py) used by their experiment configs. Hand-computed lr traces."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from conftest import compose

from srnn_bench.config_validation import validate_config
from srnn_bench.training.optim import build_optimizer, build_scheduler, plateau_options
from srnn_bench.training.trainer import Trainer


def _trace(cfg, values, lr):
    opt = build_optimizer(torch.nn.Linear(2, 2), compose(["optimizer=adam"]).optimizer, lr=lr)
    sched = build_scheduler(opt, cfg, epochs=len(values))
    out = []
    for v in values:
        sched.step(v)
        out.append(opt.param_groups[0]["lr"])
    return out, sched, opt


def test_torch_options_trace():
    cfg = compose(["scheduler=plateau", "scheduler.factor=0.1", "scheduler.patience=0", "scheduler.threshold=0.1",
                   "scheduler.cooldown=1", "scheduler.min_lr=1e-3"]).scheduler
    values = [1.0, 0.95, 0.94, 0.93, 0.5, 0.6, 0.7]
    # 0.95: not < 1.0*(1-0.1) -> bad, > patience 0 -> x0.1, cooldown 1; 0.94: bad ignored (cooldown);
    # 0.93: x0.1; 0.5: new best; 0.6: x0.1 = min_lr; 0.7: stays at min_lr
    got, *_ = _trace(cfg, values, lr=1.0)
    assert got == pytest.approx([1.0, 0.1, 0.1, 0.01, 0.01, 1e-3, 1e-3], rel=1e-12)
    ref_opt = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=1.0)
    ref = torch.optim.lr_scheduler.ReduceLROnPlateau(ref_opt, factor=0.1, patience=0, threshold=0.1, cooldown=1, min_lr=1e-3)
    want = []
    for v in values:
        ref.step(v)
        want.append(ref_opt.param_groups[0]["lr"])
    assert got == want  # the default rule is torch's


def test_ponghiran_rule_trace():
    """timit_lstm's scheduler (= all ten Ponghiran experiments): dev error vs the previous epoch, bad when
    (prev - cur) / cur < 0.005, halve after 2 consecutive bad epochs (patience 1), never below 1.25e-4."""
    cfg = compose(["experiment=timit_lstm"])
    validate_config(cfg)
    errors = [0.50, 0.40, 0.399, 0.398,  # .25 good; .0025 bad 1; .0025 bad 2 -> 5e-4
              0.45, 0.44,  # worse (bad 1); vs previous 0.45: .0227 good (vs the best 0.398 it would be bad)
              1 / 1.00502 * 0.44,  # (prev-cur)/cur = .00502 good, though (prev-cur)/prev = .004995 < .005
              0.437, 0.4365,  # bad 1 (.0012); bad 2 -> 2.5e-4
              0.436, 0.4355, 0.435, 0.4345]  # bad 1; bad 2 -> 1.25e-4; bad 1; bad 2 -> max(6.25e-5, min_lr)
    got, sched, _ = _trace(cfg.scheduler, errors, lr=1e-3)
    assert got == pytest.approx([1e-3] * 3 + [5e-4] * 5 + [2.5e-4] * 2 + [1.25e-4] * 3, rel=1e-12)
    # torch's own rule on the same values (compare with the best, change relative to it) differs
    torch_cfg = compose(["experiment=timit_lstm", "scheduler.compare_to=best", "scheduler.threshold_mode=rel"]).scheduler
    assert _trace(torch_cfg, errors, lr=1e-3)[0] != got
    # the trainer passes 1 - val_acc (monitor: val_error), the training split's without a val split
    sd = sched.state_dict()
    for metrics, expect in (({"val_loss": 9.0, "val_acc": 0.75, "train_acc": 0.5}, 0.25), ({"train_loss": 9.0, "train_acc": 0.5}, 0.5)):
        sched.load_state_dict(sd)
        Trainer._step_scheduler(SimpleNamespace(scheduler=sched), metrics)
        assert sched.best == pytest.approx(expect)
    assert sched.threshold_mode == "rel_current" and sched.compare_to == "previous"  # survive state_dict


@pytest.mark.parametrize("key, value, message", [
    ("factor", 1.5, "scheduler.factor must be in (0, 1), got 1.5"),
    ("patience", -1, "scheduler.patience must be an integer >= 0, got -1"),
    ("cooldown", 0.5, "scheduler.cooldown must be an integer >= 0, got 0.5"),
    ("threshold", -0.1, "scheduler.threshold must be >= 0, got -0.1"),
    ("min_lr", -1, "scheduler.min_lr must be >= 0, got -1"),
    ("mode", "up", "unknown scheduler.mode 'up'; valid choices: min, max"),
    ("threshold_mode", "pct", "unknown scheduler.threshold_mode 'pct'; valid choices: rel, abs, rel_current"),
    ("monitor", "test_acc", "unknown scheduler.monitor 'test_acc'; valid choices: val_loss, val_acc, val_error"),
    ("compare_to", "first", "unknown scheduler.compare_to 'first'; valid choices: best, previous"),
    ("eps", 1, "unknown key scheduler.eps; valid keys:"),
])
def test_plateau_bad_values_fail_in_one_line(key, value, message):
    with pytest.raises(ValueError) as e:
        plateau_options({"name": "plateau", key: value})
    assert message in str(e.value) and "\n" not in str(e.value)


def test_validate_config_checks_the_plateau_keys_before_any_work():
    with pytest.raises(ValueError, match=r"scheduler.factor must be in \(0, 1\), got 2.0"):
        validate_config(compose(["scheduler=plateau", "scheduler.factor=2.0"]))
