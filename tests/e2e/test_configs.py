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


def test_experiments_in_subfolders_are_choices():
    """configs/experiment/yin2021/*.yaml (the published networks) are valid ``experiment=yin2021/<name>`` choices
    on the command line, and a misspelt one lists them."""
    from srnn_bench.cli import check_group_overrides
    from srnn_bench.resources import choices

    assert "yin2021/smnist_98_21" in choices("experiment") and "shd_alif" in choices("experiment")
    assert check_group_overrides(["experiment=yin2021/smnist_98_21"]) is None
    err = check_group_overrides(["experiment=yin2021/smnist"])
    assert err.startswith("unknown experiment 'yin2021/smnist'") and "yin2021/smnist_98_21" in err
    proc = subprocess.run([sys.executable, "-m", "srnn_bench", "experiment=yin2021/smnist_98_21", "--cfg", "job"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "experiment_name: yin2021_smnist_98_21" in proc.stdout


def test_debug_smoke_makes_any_config_tiny():
    """debug=smoke (configs/debug/smoke.yaml) shrinks the run, not the model; it wins over an experiment's and a
    sweep's settings, the command line wins over it, and the typed schema accepts the result."""
    from srnn_bench.cli import check_group_overrides, check_key_overrides
    from srnn_bench.config_schema import apply_schema

    assert compose()["trainer"]["epochs"] > 1  # debug: null by default
    for base in ([], ["experiment=shd_alif"], ["experiment=timit_plif_v2", "hparams_search=ponghiran_bits"]):
        plain, smoke = compose(base), compose([*base, "debug=smoke"])
        apply_schema(smoke)
        assert smoke.trainer.epochs == 1 and plain.trainer.epochs > 1, base
        assert (smoke.dataset.limit_train, smoke.dataset.limit_test) == (64, 64)
        assert (smoke.trainer.device, smoke.trainer.num_threads, smoke.trainer.progress) == ("cpu", 1, False)
        assert smoke.model == plain.model and smoke.dataset.name == plain.dataset.name
    mine = compose(["debug=smoke", "dataset.limit_train=8", "trainer.epochs=2"])
    assert (mine.dataset.limit_train, mine.trainer.epochs, mine.dataset.limit_test) == (8, 2, 64)
    assert check_group_overrides(["debug=smoke"]) is None and check_key_overrides(["debug=smoke", "trainer.epochs=2"]) is None
    assert check_group_overrides(["debug=fast"]) == "unknown debug 'fast'; valid choices: smoke"
