"""SoLi on format-identical deep-soli HDF5 fixtures: channel, /255, tiling/chunking, labels, errors."""

import json

import numpy as np
import pytest
import torch

from srnn_bench.data import DataError, build_data
from srnn_bench.data.datasets.soli import chunk_index
from srnn_bench.data.fixtures import random_soli, write_soli
from srnn_bench.run import run


def test_chunk_index_tiles_short_and_chunks_long():
    assert chunk_index(3, 8)[0].tolist() == [0, 1, 2, 0, 1, 2, 0, 1]
    pieces = chunk_index(90, 40)
    assert [p[0] for p in pieces] == [0, 40, 50] and all(len(p) == 40 for p in pieces)  # last = final 40
    assert [p[0] for p in chunk_index(80, 40)] == [0, 40]  # no duplicate chunk
    assert chunk_index(0, 40) == []


def test_loader_values_labels_and_channel(tmp_path):
    root = tmp_path / "SoLi"
    rng = np.random.default_rng(0)
    frames = {c: rng.random((45, 1024)).astype(np.float32) for c in range(4)}
    write_soli(root / "4_0_0.h5", frames, np.full(45, 4))
    write_soli(root / "7_1_0.h5", {c: np.full((10, 1024), 0.5, np.float32) for c in range(4)}, np.full(10, 7))
    (root / "file_half.json").write_text(json.dumps({"train": ["4_0_0"], "eval": ["7_1_0"]}))
    cfg = {"name": "soli", "channel": 2, "val_fraction": 0.0}
    d = build_data(cfg, str(tmp_path))
    assert (d.n_steps, d.n_inputs, d.n_classes, d.per_step_labels) == (40, 1024, 11, True)
    assert len(d.train) == 2 and len(d.test) == 1  # 44 frames (frame 0 dropped) -> [0:40], [4:44]
    x, y = d.train[1]
    want = np.rint(frames[2][5:45] * 255) / 255  # frames 1..44 -> last chunk = original frames 5..44
    assert x.shape == (40, 1024) and torch.allclose(x, torch.from_numpy(want).float(), atol=1e-6)
    assert y.shape == (40,) and (y == 4).all()
    xt, yt = d.test[0]
    assert torch.allclose(xt, torch.full((40, 1024), 128 / 255))  # 9 frames tiled; 0.5 -> round(127.5)=128
    seq = build_data({**cfg, "labels": "sequence", "drop_first_frame": False, "quantize_8bit": False}, str(tmp_path))
    assert not seq.per_step_labels and int(seq.train[0][1]) == 4 and len(seq.train) == 2
    assert torch.allclose(seq.train[0][0], torch.from_numpy(frames[2][:40]))


def test_missing_split_missing_file_and_corrupt_file(tmp_path):
    with pytest.raises(DataError, match="SoLi split file not found") as e:
        build_data({"name": "soli"}, str(tmp_path))
    assert "file_half.json" in str(e.value) and "deep-soli" in str(e.value)
    root = random_soli(tmp_path / "SoLi", gestures=range(2), sessions=(0, 1), instances=(0,), frames=(12,))
    (root / "1_1_0.h5").unlink()
    with pytest.raises(DataError, match="1 of 2 split files") as e:
        build_data({"name": "soli"}, str(tmp_path))
    assert str(root / "1_1_0.h5") in str(e.value)
    bad = root / "1_1_0.h5"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 40)
    with pytest.raises(DataError, match="truncated or corrupt") as e:
        build_data({"name": "soli"}, str(tmp_path))
    assert str(bad) in str(e.value)


@pytest.mark.parametrize("labels, loss", [("frame", "per_step"), ("sequence", "last")])
def test_one_epoch(tmp_path, run_cfg, labels, loss):
    random_soli(tmp_path / "data" / "SoLi", gestures=range(11), sessions=(2, 3), instances=(0,), frames=(20, 50))
    cfg = run_cfg(["dataset=soli", "encoder=identity", f"dataset.labels={labels}", f"trainer.loss={loss}",
                   "trainer.epochs=1", "trainer.batch_size=8", "model.hidden=[8]", "dataset.limit_train=8",
                   "dataset.limit_test=8"])
    m = run(cfg)
    assert m["epochs"] == 1 and m["dataset"] == "soli" and np.isfinite(m["train_loss"])
