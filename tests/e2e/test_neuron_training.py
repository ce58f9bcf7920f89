"""Every neuron trains on MNIST-1D with the one trainer: one short epoch (256 training sequences, tiny
layers) through ``srnn_bench.run.run`` lowers the training loss of the very same initial network."""

import pytest
import torch

from srnn_bench.data import build_data, collate_time_first
from srnn_bench.encoders import build_encoder
from srnn_bench.models import build_model
from srnn_bench.neurons import CELLS
from srnn_bench.run import run
from srnn_bench.surrogates import build_surrogate
from srnn_bench.training.losses import loss_and_correct
from srnn_bench.training.trainer import seed_everything


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("mnist1d")  # MNIST-1D is generated once for the module


def _train_loss(cfg, state_dict=None) -> float:
    """Training-set loss of the network ``run`` builds (same seeds), optionally with trained weights."""
    seed_everything(int(cfg.trainer.seed))
    data = build_data(cfg.dataset, cfg.paths.data_dir)
    encoder = build_encoder(cfg.encoder, binary_input=data.binary_input)
    surrogate = build_surrogate(cfg.surrogate)
    seed_everything(int(cfg.trainer.seed))
    model = build_model(cfg.model, encoder.out_features(data.n_inputs), data.n_classes, cfg.neuron, surrogate)
    if state_dict is not None:
        model.load_state_dict(state_dict)
    model.train()  # batch statistics for BatchNorm; dropout is off in these configs
    x, y = collate_time_first([data.train[i] for i in range(len(data.train))])
    with torch.no_grad():
        loss, _, _ = loss_and_correct(str(cfg.trainer.loss), model(encoder(x)), y)
    return loss.item()


@pytest.mark.parametrize("neuron", sorted(CELLS))
def test_one_short_epoch_lowers_the_loss(neuron, run_cfg, data_dir, tmp_path):
    extra = {"src": ["neuron.b_h_init=-4.0"]}.get(neuron, [])
    if neuron.startswith("plif"):
        extra = ["neuron.dropout=0.0"]
    cfg = run_cfg(
        [
            f"neuron={neuron}",
            "model.hidden=[16]",
            "encoder.n=4",
            "dataset.limit_train=256",
            "dataset.limit_test=64",
            "trainer.epochs=1",
            "trainer.batch_size=32",
            "trainer.eval_batch_size=256",
            "trainer.num_threads=1",
            *extra,
        ],
        data_dir=data_dir,
    )
    before = _train_loss(cfg)
    metrics = run(cfg)
    ckpt = torch.load(tmp_path / "run" / "checkpoints" / "last.pt", weights_only=False)
    after = _train_loss(cfg, ckpt["model"])
    assert metrics["epochs"] == 1 and metrics["neuron"] == neuron
    assert after < before, f"{neuron}: loss {before:.4f} -> {after:.4f}"
