"""IDX datasets (MNIST, Fashion-MNIST, S-MNIST, PS-MNIST) on real-format fixtures."""

import gzip

import numpy as np
import pytest
import torch

from srnn_bench.data import DataError, build_data
from srnn_bench.data.datasets.mnist import read_idx, window_index
from srnn_bench.data.fixtures import random_mnist, write_idx
from srnn_bench.run import run


@pytest.mark.parametrize("name", ["a-ubyte", "a-ubyte.gz"])
def test_idx_round_trip(tmp_path, name):
    a = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    assert np.array_equal(read_idx(write_idx(tmp_path / name, a)), a)


def test_window_index_matches_authors_rule():
    idx = window_index(784, 4, 1)
    assert idx.shape == (784, 4)
    assert idx[0].tolist() == [0, 1, 2, 3] and idx[779].tolist() == [779, 780, 781, 782]
    # starts >= 784 - 4 read the last 4 pixels
    assert all(idx[i].tolist() == [780, 781, 782, 783] for i in range(780, 784))
    assert window_index(784, 1, 1)[:, 0].tolist() == list(range(784))
    assert window_index(784, 8, 2).shape == (392, 8)


def _data(tmp_path, gz=True):
    random_mnist(tmp_path / "MNIST" / "raw", n_train=20, n_test=10, gz=gz)
    return str(tmp_path)


def test_smnist_items_are_pixels_over_255(tmp_path):
    d = build_data({"name": "smnist", "layout": "sequence", "val_fraction": 0.0, "download": False}, _data(tmp_path))
    img = read_idx(tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte.gz")
    x, y = d.train[3]
    assert x.shape == (784, 1) and d.n_steps == 784 and not d.binary_input
    assert torch.allclose(x[:, 0], torch.from_numpy(img[3].reshape(-1)).double() / 255)
    w8 = build_data({"name": "smnist", "layout": "sequence", "window": 8, "download": False}, str(tmp_path))
    assert w8.train[0][0].shape == (784, 8) and w8.n_inputs == 8


def test_psmnist_fixed_permutation(tmp_path):
    cfg = {"name": "psmnist", "layout": "sequence", "window": 4, "permute": True, "permutation_seed": 0,
           "val_fraction": 0.0, "download": False}
    data_dir = _data(tmp_path, gz=False)
    a, b = build_data(cfg, data_dir), build_data(cfg, data_dir)
    assert torch.equal(a.train[0][0], b.train[0][0])  # same permutation every build
    c = build_data({**cfg, "permutation_seed": 1}, data_dir)
    assert not torch.equal(a.train[0][0], c.train[0][0])
    plain = build_data({**cfg, "permute": False, "window": 1}, data_dir).train[0][0][:, 0]
    perm = torch.from_numpy(np.random.default_rng(0).permutation(784))
    x = a.train[0][0]
    assert x.shape == (784, 4) and torch.equal(x[:780, 0], plain[perm][:780])
    assert sorted(plain[perm].tolist()) == sorted(plain.tolist())  # a permutation of the same pixels


def test_mnist_image_layout_and_binarize(tmp_path):
    d = build_data({"name": "mnist", "val_fraction": 0.25, "download": False}, _data(tmp_path))
    assert (len(d.train), len(d.val), len(d.test), d.n_steps, d.n_inputs) == (15, 5, 10, 1, 784)
    b = build_data({"name": "mnist", "binarize": 0.1, "download": False}, str(tmp_path))
    assert b.binary_input and set(b.train[0][0].unique().tolist()) <= {0.0, 1.0}


def test_missing_truncated_corrupt_and_md5(tmp_path):
    with pytest.raises(DataError) as e:
        build_data({"name": "fmnist", "download": False}, str(tmp_path))
    assert "Fashion-MNIST not found" in str(e.value) and "FashionMNIST/raw" in str(e.value)
    folder = random_mnist(tmp_path / "MNIST" / "raw", n_train=8, n_test=4, gz=False)
    img = folder / "train-images-idx3-ubyte"
    img.write_bytes(img.read_bytes()[:-100])
    with pytest.raises(DataError, match="truncated: header says \\[8, 28, 28\\]") as e:
        build_data({"name": "mnist", "download": False}, str(tmp_path))
    assert str(img) in str(e.value)
    img.unlink()
    gz = write_idx(folder / "train-images-idx3-ubyte.gz", np.zeros((8, 28, 28), np.uint8))
    gz.write_bytes(gz.read_bytes()[:-12])  # cut the gzip trailer (CRC, size)
    with pytest.raises(DataError, match="truncated or corrupt gzip") as e:
        build_data({"name": "mnist", "download": False}, str(tmp_path))
    assert str(gz) in str(e.value)
    gz.write_bytes(gzip.compress(b"\x00\x00\x08\x03garbage"))
    with pytest.raises(DataError, match="truncated IDX header|truncated: header"):
        build_data({"name": "mnist", "download": False}, str(tmp_path))
    gz.write_bytes(gzip.compress(b"PK\x03\x04 not idx"))
    with pytest.raises(DataError, match="bad magic number"):
        build_data({"name": "mnist", "download": False}, str(tmp_path))
    write_idx(gz, np.zeros((8, 28, 28), np.uint8))
    with pytest.raises(DataError, match="wrong MD5") as e:  # not the published file
        build_data({"name": "mnist", "download": False, "verify_md5": True}, str(tmp_path))
    assert str(gz) in str(e.value)
    write_idx(folder / "train-labels-idx1-ubyte", np.zeros(7, np.uint8))
    with pytest.raises(DataError, match="expected 8 labels"):
        build_data({"name": "mnist", "download": False}, str(tmp_path))


@pytest.mark.parametrize(
    "dataset, encoder, extra",
    [
        ("mnist", "rate", ["encoder.num_steps=20"]),
        ("mnist", "latency", ["encoder.num_steps=20"]),
        ("fmnist", "rate", ["encoder.num_steps=20"]),
        ("fmnist", "latency", ["encoder.num_steps=20"]),
        ("smnist", "identity", []),
        ("psmnist", "identity", []),
    ],
)
def test_one_epoch(tmp_path, run_cfg, dataset, encoder, extra):
    folder = "FashionMNIST" if dataset == "fmnist" else "MNIST"
    random_mnist(tmp_path / "data" / folder / "raw", n_train=16, n_test=8)
    cfg = run_cfg([f"dataset={dataset}", f"encoder={encoder}", "trainer.epochs=1", "trainer.batch_size=8",
                   "model.hidden=[8]", "dataset.limit_train=8", "dataset.limit_test=8", "dataset.val_fraction=0",
                   "dataset.download=false", *extra])
    m = run(cfg)
    assert m["epochs"] == 1 and m["dataset"] == dataset and m["encoder"] == encoder and np.isfinite(m["train_loss"])
