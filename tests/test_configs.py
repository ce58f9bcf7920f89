"""Every experiment config composes; unknown choices fail with one line listing the valid ones."""

import subprocess
import sys

import pytest
from conftest import CONFIG_DIR, ROOT, compose

EXPERIMENTS = sorted(p.stem for p in (CONFIG_DIR / "experiment").glob("*.yaml"))


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_composes(name):
    cfg = compose([f"experiment={name}"])
    assert cfg.experiment_name
    for group in ("dataset", "encoder", "model", "neuron", "surrogate", "optimizer", "scheduler", "trainer"):
        assert group in cfg


def test_default_is_mnist1d_alif():
    default, spelled = compose(), compose(["experiment=mnist1d_alif"])
    assert default == spelled
    assert default.dataset.name == "mnist1d" and default.neuron.name == "alif"
    assert default.surrogate.name == "multi_gaussian" and list(default.model.hidden) == [128, 128]


@pytest.mark.parametrize("arg, group", [("neuron=alfi", "neuron"), ("surrogate=mg", "surrogate"), ("dataset=shd2", "dataset")])
def test_unknown_choice_one_line(arg, group):
    proc = subprocess.run([sys.executable, "-m", "srnn_bench", arg], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert f"unknown {group}" in lines[0] and "valid choices:" in lines[0]
    valid = sorted(p.stem for p in (CONFIG_DIR / group).glob("*.yaml"))
    assert all(v in lines[0] for v in valid)
