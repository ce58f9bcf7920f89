"""Weights that start training already non-finite (a published network's dead neuron, e.g. GSC 0.91398's
dense_1 neuron 172) are kept as they are and do not stop fine-tuning; weights that *become* non-finite do."""

from __future__ import annotations

import math

import pytest
import torch

from srnn_bench.run import run
from srnn_bench.training.trainer import NonFiniteLossError
from srnn_bench.utils import layout

COMMON = ["dataset.limit_train=32", "dataset.limit_test=16", "trainer.batch_size=16", "model.hidden=[16]",
          "model.recurrent=false", "trainer.checkpoint_every_min=null"]  # a dense first layer, as GSC's dense_1


def _poison(run_dir, row: int) -> dict:
    """Make hidden neuron ``row`` of the first layer dead in last.pt, as GSC's: NaN input weights, bias, taus."""
    path = layout.checkpoint(run_dir, layout.LAST)
    state = torch.load(path, weights_only=False)  # our own checkpoint, just written by the test
    w, b = state["model"]["layers.0.w_in.weight"], state["model"]["layers.0.w_in.bias"]
    w[row] = math.nan
    b[row] = math.nan
    for k, v in state["model"].items():
        if k.startswith("layers.0.") and "tau" in k and v.ndim == 1:
            v[row] = math.nan
    torch.save(state, path)
    return {k: v.clone() for k, v in state["model"].items()}


def test_a_dead_neuron_in_the_starting_weights_stays_dead_and_training_goes_on(run_cfg, tmp_path):
    run(run_cfg([*COMMON, "trainer.epochs=1"]))
    before = _poison(tmp_path / "run", row=3)
    metrics = run(run_cfg([*COMMON, "trainer.epochs=2"]))  # continues the run: fine-tunes the poisoned weights
    assert metrics["epoch"] == 2 and math.isfinite(metrics["test_acc"])
    after = torch.load(layout.checkpoint(tmp_path / "run", layout.LAST), weights_only=False)["model"]
    w0, w1 = before["layers.0.w_in.weight"], after["layers.0.w_in.weight"]
    assert torch.isnan(w1[3]).all() and torch.isnan(after["layers.0.w_in.bias"][3])  # kept as it was
    assert torch.isfinite(torch.cat([w1[:3], w1[4:]])).all()  # and it spread nowhere
    assert not torch.equal(torch.cat([w0[:3], w0[4:]]), torch.cat([w1[:3], w1[4:]]))  # the others trained
    for k, v in after.items():
        if not v.is_floating_point():
            continue
        if k.startswith("layers.0.") and v.shape[0] == w1.shape[0]:  # the dead neuron's own entries: row 3
            assert torch.isnan(v[3]).all() == torch.isnan(before[k][3]).all(), k
            v = torch.cat([v[:3], v[4:]])
        assert torch.isfinite(v).all(), k


def test_weights_that_become_non_finite_still_stop_the_run(run_cfg, monkeypatch):
    step = torch.optim.Adam.step

    def poisoning_step(self, *a, **k):  # an update that makes one weight NaN
        out = step(self, *a, **k)
        with torch.no_grad():
            self.param_groups[0]["params"][0].view(-1)[0] = math.nan
        return out

    monkeypatch.setattr(torch.optim.Adam, "step", poisoning_step)
    with pytest.raises(NonFiniteLossError, match="non-finite"):
        run(run_cfg([*COMMON, "trainer.epochs=1"]))
