"""GSC v1: log-mel features (shape, frame count, normalisation), the real loader on a generated
tarball-layout fixture, the 12-class protocol, caching, a one-epoch run, and clear data errors."""

import numpy as np
import pytest
import soundfile as sf
import torch

from srnn_bench.data import DataError, build_data
from srnn_bench.data.audio import gsc_logmel
from srnn_bench.data.datasets.gsc import CLASSES, WORDS
from srnn_bench.data.fixtures import SR, make_gsc, tone


def test_logmel_one_second_is_101_frames_of_120_normalised_features():
    x = tone(1000.0)
    f = gsc_logmel(x)
    assert f.shape == (101, 120)  # 1 + 16000 // 160 frames; 3 channels x 40 mels
    assert np.isfinite(f).all()
    # each (channel, mel) row has unit std over time (Methods: "variance of 1 across time")
    rng = np.random.default_rng(0)
    speechy = tone(500.0) * (1 + np.sin(np.linspace(0, 9, SR))) + 0.05 * rng.standard_normal(SR).astype(np.float32)
    assert np.allclose(gsc_logmel(speechy).std(axis=0), 1.0, atol=1e-3)
    # the 1 kHz tone lands in the mel band whose centre is nearest 1 kHz (static channel, mid clip)
    import librosa

    centres = librosa.mel_frequencies(n_mels=42, fmin=20, fmax=4000)[1:-1]
    raw = f[50, :40] * 1.0
    assert int(np.argmax(raw)) in {int(np.argmin(np.abs(centres - 1000))) + d for d in (-1, 0, 1)}
    # waveform / max|x|: the feature is invariant to the recording level
    assert np.allclose(gsc_logmel(0.01 * x), f, atol=1e-4)
    # a half-second clip is centre-padded: the first and last frames hold silence
    half = gsc_logmel(tone(1000.0, SR // 2))
    assert half.shape == (101, 120)
    assert np.abs(half[:15, :40]).max() < 1e-3 and np.abs(half[-15:, :40]).max() < 1e-3 and np.abs(half[50, :40]).max() > 0.5


def test_loader_protocol_cache_and_one_epoch(tmp_path, run_cfg):
    from srnn_bench.run import run

    data = tmp_path / "data"
    make_gsc(data / "speech_commands_v0.01")
    cfg = run_cfg(["dataset=gsc", "dataset.download=false", "encoder=identity", "model.hidden=[8]",
                   "trainer.epochs=1", "trainer.batch_size=8", "trainer.loss=mean"], data_dir=data)
    d = build_data(cfg.dataset, str(data))
    assert (d.n_inputs, d.n_steps, d.n_classes) == (120, 101, 12)
    ys = {s: [int(y) for _, y in ds] for s, ds in (("train", d.train), ("val", d.val), ("test", d.test))}
    # 10 known words, one clip each in val and test; unknown capped at ceil(10% of 10) = 1 clip; 1 silence clip
    assert sorted(ys["test"]) == sorted(list(range(10)) + [CLASSES.index("_unknown_"), CLASSES.index("_silence_")])
    assert sorted(ys["val"]) == sorted(ys["test"])
    assert ys["train"].count(CLASSES.index("_unknown_")) == 1 and ys["train"].count(CLASSES.index("_silence_")) == 1
    assert len(ys["train"]) == 10 + 1 + 1
    entries = sorted((data / "cache" / "gsc").glob("*.npz"))
    assert len(entries) == 1
    build_data(cfg.dataset, str(data))  # served from the cache: no new entry
    assert sorted((data / "cache" / "gsc").glob("*.npz")) == entries
    metrics = run(cfg)
    assert metrics["epochs"] == 1 and 0.0 <= metrics["test_acc"] <= 1.0
    # another preprocessing setting is another cache entry, never the stale one
    cfg2 = run_cfg(["dataset=gsc", "dataset.download=false", "dataset.n_mels=20"], data_dir=data)
    assert build_data(cfg2.dataset, str(data)).n_inputs == 60
    assert len(list((data / "cache" / "gsc").glob("*.npz"))) == 2
    # MFCC features instead of log-mel (dataset.features=mfcc): 98 frames x 39, min-max with train stats
    d3 = build_data(run_cfg(["dataset=gsc", "dataset.download=false", "dataset.features=mfcc"], data_dir=data).dataset, str(data))
    assert (d3.n_steps, d3.n_inputs) == (98, 39)
    train = torch.stack([x for x, _ in d3.train])
    assert torch.allclose(train.amin((0, 1)), torch.zeros(39), atol=1e-6) and torch.allclose(train.amax((0, 1)), torch.ones(39), atol=1e-6)


def test_missing_dataset_is_one_message(tmp_path, run_cfg):
    cfg = run_cfg(["dataset=gsc", "dataset.download=false"], data_dir=tmp_path)
    with pytest.raises(DataError) as e:
        build_data(cfg.dataset, str(tmp_path))
    msg = str(e.value)
    assert "\n" not in msg and str(tmp_path / "speech_commands_v0.01") in msg
    assert "validation_list.txt" in msg and "speech_commands_v0.01.tar.gz" in msg
    cfg = run_cfg(["dataset=gsc", "dataset.url=http://127.0.0.1:9/speech_commands_v0.01.tar.gz"], data_dir=tmp_path)
    with pytest.raises(DataError, match="automatic download failed: could not download"):
        build_data(cfg.dataset, str(tmp_path))


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_damaged_wav_names_the_file(tmp_path, run_cfg, damage):
    root = make_gsc(tmp_path / "speech_commands_v0.01", per_word=1, unknown_words=())
    bad = root / "left" / sorted(p.name for p in (root / "left").iterdir())[0]
    blob = bad.read_bytes()
    bad.write_bytes(blob[: len(blob) // 2] if damage == "truncated" else b"not a wav file at all" * 10)
    cfg = run_cfg(["dataset=gsc", "dataset.download=false"], data_dir=tmp_path)
    with pytest.raises(DataError, match="truncated audio file" if damage == "truncated" else "unreadable or corrupt") as e:
        build_data(cfg.dataset, str(tmp_path))
    assert str(bad) in str(e.value) and "re-extract" in str(e.value)


def test_ternary_encoder_values_and_threshold_gradient():
    """s = H(x - theta) - H(-theta - x); d s / d theta = -gamma f(x - theta) + gamma f(-theta - x)."""
    from srnn_bench.encoders import build_encoder
    from srnn_bench.surrogates import MultiGaussian

    enc = build_encoder({"name": "ternary", "threshold": 0.05})
    x = torch.tensor([-1.0, -0.06, -0.05, 0.0, 0.04, 0.05, 0.2])[:, None, None]
    s = enc(x)
    assert s.flatten().tolist() == [-1.0, -1.0, 0.0, 0.0, 0.0, 0.0, 1.0]  # strict: |x| must exceed theta
    x = torch.tensor([0.04, 0.06, 0.3])[:, None, None]  # one-sided inputs: the two terms do not cancel
    enc(x).sum().backward()
    mg = MultiGaussian(gamma=0.5, sigma=0.5, h=0.15, s=6.0)
    xs = x.flatten().double()
    expected = (-mg.derivative(xs - 0.05) + mg.derivative(-0.05 - xs)).sum()
    assert abs(expected.item()) > 0.03
    assert enc.theta.grad.item() == pytest.approx(expected.item(), rel=1e-5)
    assert enc.binary and enc.out_features(120) == 120


def _espeak(word, path, speed, pitch):
    import shutil
    import subprocess

    from scipy.signal import resample_poly

    raw = path.with_suffix(".22k.wav")
    subprocess.run([shutil.which("espeak-ng"), "-s", str(speed), "-p", str(pitch), "-w", str(raw), word], check=True, capture_output=True)
    x, sr = sf.read(raw)
    raw.unlink()
    assert sr == 22050
    sf.write(path, resample_poly(x, 320, 441).astype(np.float32), SR, subtype="PCM_16")  # 22.05 kHz -> 16 kHz


@pytest.mark.skipif(__import__("shutil").which("espeak-ng") is None, reason="espeak-ng not installed (apt-get install espeak-ng); the synthetic-tone tests above cover the same code path")
def test_real_speech_through_the_loader(tmp_path, run_cfg):
    """Spoken words (espeak-ng) in the tarball layout: shorter than 1 s, so centre-padded; the word's
    energy sits in the middle frames and the 12-class splits come out as for the tone fixture."""
    root = tmp_path / "speech_commands_v0.01"
    val, test = [], []
    for w in WORDS + ("bed", "cat"):
        (root / w).mkdir(parents=True)
        for j, (speed, pitch) in enumerate([(160, 50), (190, 35), (140, 65)]):
            name = f"{w}/{j:04x}beef_nohash_{j}.wav"
            _espeak(w, root / name, speed, pitch)
            (val if j == 1 else test if j == 2 else []).append(name)
    (root / "_background_noise_").mkdir()
    sf.write(root / "_background_noise_" / "pink.wav", 0.1 * np.random.default_rng(0).standard_normal(20 * SR), SR, subtype="PCM_16")
    (root / "validation_list.txt").write_text("\n".join(val))
    (root / "testing_list.txt").write_text("\n".join(test))
    d = build_data(run_cfg(["dataset=gsc", "dataset.download=false"], data_dir=tmp_path).dataset, str(tmp_path))
    assert (len(d.train), len(d.val), len(d.test)) == (12, 12, 12)
    for x, y in d.test:
        if int(y) < 10:  # a spoken word: louder (static log-mel) in the middle than at the padded edges
            static = x[:, :40].sum(1)
            assert static[40:60].mean() > 3 * static[:5].mean() + 1e-6


def test_download_verifies_checksum_and_extracts(tmp_path, run_cfg):
    """The download path end to end with a local file:// URL: fetch, MD5 check, extract, load."""
    import hashlib
    import tarfile

    src = make_gsc(tmp_path / "src", per_word=3, unknown_words=())
    tarball = tmp_path / "speech_commands_v0.01.tar.gz"
    with tarfile.open(tarball, "w:gz") as tf:
        for p in sorted(src.rglob("*")):
            tf.add(p, arcname=f"./{p.relative_to(src)}", recursive=False)
    md5 = hashlib.md5(tarball.read_bytes()).hexdigest()
    data = tmp_path / "data"
    bad = run_cfg(["dataset=gsc", f"dataset.url={tarball.as_uri()}", f"dataset.md5={'0' * 32}"], data_dir=data)
    with pytest.raises(DataError, match="wrong MD5"):
        build_data(bad.dataset, str(data))
    assert not (data / tarball.name).exists()  # the rejected download was never saved under its name
    good = run_cfg(["dataset=gsc", f"dataset.url={tarball.as_uri()}", f"dataset.md5={md5}"], data_dir=data)
    d = build_data(good.dataset, str(data))
    assert (data / "speech_commands_v0.01" / "testing_list.txt").is_file() and len(d.test) == 10 + 1
