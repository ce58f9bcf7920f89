"""Rate and latency encoders (SRC paper / snnTorch spikegen) on known inputs."""

import math

import pytest
import torch

from srnn_bench.encoders import Latency, Rate, build_encoder


def test_latency_golden_values_without_normalisation():
    # semantics.md §2 (tau 10, thr 0.01, no normalisation): x=1 -> step 0; 0.1 -> 1; 0.02 -> 7
    enc = Latency(num_steps=20, tau=10.0, threshold=0.01, normalize=False)
    x = torch.tensor([1.0, 0.1, 0.02]).view(1, 1, 3)
    t = enc.spike_times(x[0])[0]
    assert torch.allclose(t, torch.tensor([10 * math.log(1 / 0.99), 10 * math.log(0.1 / 0.09), 10 * math.log(2.0)]), atol=1e-4)
    s = enc(x)[:, 0]  # [T, 3]
    assert s.shape == (20, 3)
    assert s.sum(0).tolist() == [1.0, 1.0, 1.0]  # exactly one spike each
    assert s.argmax(0).tolist() == [0, 1, 7]


def test_latency_normalised_spans_sequence_and_drops_last_step():
    enc = Latency(num_steps=200)
    x = torch.tensor([1.0, 0.5, 0.1, 0.02, 0.0101, 0.01, 0.0]).view(1, 1, -1)
    s = enc(x)[:, 0]
    # t_max = tau ln((thr+eps)/eps) maps to step 199: an input at or below threshold would spike there -> removed
    t_max = 10 * math.log((0.01 + 1e-7) / 1e-7)
    expected = [round(10 * math.log(v / (v - 0.01)) * 199 / t_max) for v in (1.0, 0.5, 0.1, 0.02, 0.0101)]
    assert s[:, :5].argmax(0).tolist() == expected == [0, 0, 2, 12, 80]
    assert s[:, :5].sum(0).tolist() == [1.0] * 5
    assert s[:, 5:].sum().item() == 0.0  # x <= threshold: its spike was on the last step, removed
    keep = Latency(num_steps=200, remove_last=True)
    assert keep(torch.zeros(1, 1, 1)).sum() == 0
    kept = Latency(num_steps=200, remove_last=False)(torch.zeros(1, 1, 1))
    assert kept[199, 0, 0] == 1 and kept.sum() == 1


def test_latency_is_monotone_and_static_only():
    enc = Latency(num_steps=50)
    x = torch.linspace(0.02, 1.0, 30).view(1, 1, -1)
    steps = enc(x)[:, 0].argmax(0)
    assert (steps[1:] <= steps[:-1]).all()  # brighter spikes sooner
    assert enc.out_steps(1) == 50 and enc.binary
    with pytest.raises(ValueError, match="T = 5"):
        enc(torch.rand(5, 2, 3))


def test_rate_statistics_and_shapes():
    torch.manual_seed(0)
    enc = Rate(num_steps=200, gain=0.25)
    x = torch.tensor([0.0, 0.4, 1.0, 8.0]).view(1, 1, 4).expand(1, 500, 4)
    s = enc(x)
    assert s.shape == (200, 500, 4) and enc.out_steps(1) == 200
    assert set(s.unique().tolist()) <= {0.0, 1.0}
    rate = s.mean(dim=(0, 1))
    p = torch.tensor([0.0, 0.1, 0.25, 1.0])  # clamp(gain * x, 0, 1)
    sd = torch.sqrt(p * (1 - p) / (200 * 500))
    assert (rate - p).abs().le(5 * sd + 1e-9).all(), (rate, p)
    # independent across steps: correlation of consecutive steps ~ 0 for p = 0.25
    a, b = s[:-1, :, 2].flatten(), s[1:, :, 2].flatten()
    corr = ((a - a.mean()) * (b - b.mean())).mean() / (a.std() * b.std())
    assert abs(corr.item()) < 0.02


def test_rate_codes_sequences_step_by_step_and_rejects_mismatch():
    enc = Rate(num_steps=None, gain=1.0)
    x = torch.tensor([[0.0], [1.0], [0.0]]).view(3, 1, 1)
    assert enc(x).flatten().tolist() == [0.0, 1.0, 0.0] and enc.out_steps(3) == 3
    with pytest.raises(ValueError, match="num_steps=null"):
        Rate(num_steps=200).out_steps(784)


@pytest.mark.parametrize(
    "cfg, message",
    [
        ({"name": "rate", "gain": 0.0}, "encoder.gain"),
        ({"name": "rate", "num_steps": 0}, "encoder.num_steps"),
        ({"name": "latency", "tau": -1.0}, "encoder.tau"),
        ({"name": "latency", "threshold": 1.5}, "encoder.threshold"),
        ({"name": "latency", "bogus": 1}, "encoder 'latency'"),
    ],
)
def test_bad_encoder_settings_name_the_key(cfg, message):
    with pytest.raises(ValueError, match=message):
        build_encoder(cfg)


def test_linear_latency_variant():
    # snnTorch linear=True: t = min(tau (1 - x), tau (1 - thr)); normalised: tau = num_steps - 1
    x = torch.tensor([1.0, 0.5, 0.1, 0.02, 0.01, 0.0]).view(1, 1, -1)
    s = Latency(num_steps=200, linear=True)(x)[:, 0]
    assert s[:, :4].argmax(0).tolist() == [0, 100, 179, 195]  # 199 * (1 - x), rounded (half to even)
    assert s[:, :4].sum().item() == 4 and s[:, 4:].sum().item() == 0  # saturated (x <= thr: 197.01) removed
    raw = Latency(num_steps=20, linear=True, normalize=False, remove_last=False)(x)[:, 0]
    assert raw.argmax(0).tolist() == [0, 5, 9, 10, 10, 10]  # tau 10: 10 (1 - x), capped at 9.9
