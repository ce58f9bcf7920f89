"""LibriSpeech 100 h: the real loader on generated flac folders + Kaldi text alignments, frame counts
matched to the alignments, one epoch, and clear messages for missing/mismatched alignments."""


import pytest

from srnn_bench.data import IGNORE_INDEX, DataError, build_data
from srnn_bench.data.audio import frame_count
from srnn_bench.data.fixtures import make_librispeech


def test_loader_and_one_epoch(tmp_path, run_cfg):
    from srnn_bench.run import run

    data = tmp_path / "data"
    make_librispeech(data / "LibriSpeech", gz=True, skip_alignment="20-198-0001")
    cfg = run_cfg(["dataset=librispeech", "dataset.download=false", "dataset.max_frames=40", "encoder=identity",
                   "model.hidden=[8]", "trainer.epochs=1", "trainer.batch_size=4", "trainer.loss=per_step"], data_dir=data)
    d = build_data(cfg.dataset, str(data))
    assert (d.n_inputs, d.n_classes, d.n_steps, d.per_step_labels) == (39, 5, 40, True)
    # train: utterances 0 and 2 (1 has no alignment): 48 and 68 frames -> 2 + 2 pieces of 40
    assert frame_count(8037) == 48 and frame_count(11237) == 68
    assert len(d.train) == 4 and len(d.val) == 2 and len(d.test) == 2
    x, y = d.train[0]
    assert x.shape == (40, 39) and y[:10].tolist() == [0] * 10 and y[10:20].tolist() == [1] * 10
    assert (d.train[1][1][8:] == IGNORE_INDEX).all() and (d.train[1][1][:8] == 4).all()  # frames 40..47, then padding
    metrics = run(cfg)
    assert metrics["epochs"] == 1 and 0.0 <= metrics["test_acc"] <= 1.0


def test_missing_alignments_message(tmp_path, run_cfg):
    root = make_librispeech(tmp_path / "LibriSpeech")
    (root / "alignments" / "dev-clean.txt").unlink()
    cfg = run_cfg(["dataset=librispeech", "dataset.download=false"], data_dir=tmp_path)
    with pytest.raises(DataError) as e:
        build_data(cfg.dataset, str(tmp_path))
    msg = str(e.value)
    assert str(root / "alignments" / "dev-clean.txt") in msg and "ali-to-pdf" in msg and "\n" not in msg


def test_missing_audio_message(tmp_path, run_cfg):
    cfg = run_cfg(["dataset=librispeech", "dataset.download=false"], data_dir=tmp_path)
    with pytest.raises(DataError, match="openslr.org/resources/12/train-clean-100.tar.gz") as e:
        build_data(cfg.dataset, str(tmp_path))
    assert str(tmp_path / "LibriSpeech" / "train-clean-100") in str(e.value)


def test_alignment_of_other_audio_names_the_utterance(tmp_path, run_cfg):
    root = make_librispeech(tmp_path / "LibriSpeech")
    ali = root / "alignments" / "test-clean.txt"
    utt, *labels = ali.read_text().split()
    ali.write_text(utt + " " + " ".join(labels[:-10]) + "\n")  # 10 frames short: not the same audio
    cfg = run_cfg(["dataset=librispeech", "dataset.download=false"], data_dir=tmp_path)
    with pytest.raises(DataError, match="alignment labels") as e:
        build_data(cfg.dataset, str(tmp_path))
    assert f"{utt}.flac" in str(e.value)
