"""scripts/neuron_table.py builds its table from run directories (numbers read, never typed)."""

import importlib.util
import json

import pytest
import yaml
from conftest import ROOT


def _load():
    spec = importlib.util.spec_from_file_location("neuron_table", ROOT / "scripts" / "neuron_table.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_table_from_run_directories(tmp_path):
    mod = _load()
    cfg = {"trainer": {"batch_size": 64, "lr": 0.01, "seed": 0, "num_threads": 1, "loss": "last", "device": "cpu"},
           "dataset": {"limit_train": None}, "model": {"hidden": [128, 128], "readout": {"kind": "integrator"}},
           "surrogate": {"name": "multi_gaussian"}}
    for name, acc, rate in (("alif", 0.8125, 0.0625), ("lstm", 0.5, 1.0)):
        d = tmp_path / name
        d.mkdir()
        (d / "metrics.json").write_text(json.dumps({"neuron": name, "test_acc": acc, "test_acc_at_best_val": acc,
                                                    "firing_rate": rate, "n_params": 123, "epochs": 2}))
        (d / "metrics.jsonl").write_text("\n".join(json.dumps({"train_time_s": t}) for t in (1.5, 2.0)))
        (d / "config.yaml").write_text(yaml.safe_dump(cfg))
    (tmp_path / "gru").mkdir()
    (tmp_path / "gru" / "error.txt").write_text("Traceback...\nValueError: boom")
    text = mod.build_table(tmp_path, tmp_path / "table.md", ["alif", "gru", "lstm"])
    assert "| alif | 0.8125 | 0.8125 | 0.0625 | 3.5 | 123 |" in text
    assert "| lstm | 0.5000 |" in text and "| gru | failed: ValueError: boom |" in text
    assert "2 epochs" in text and (tmp_path / "table.md").read_text() == text


def test_committed_table_regenerates_from_the_kept_run_files(tmp_path):
    """results/neuron_table.md is rebuilt, byte for byte, from results/neuron_runs/ (config and metrics
    files only: results/ holds no checkpoints)."""
    import subprocess

    mod = _load()
    runs = ROOT / "results" / "neuron_runs"
    names = sorted(p.name for p in runs.iterdir() if p.is_dir())
    assert names and all((runs / n / "metrics.json").is_file() for n in names)
    text = mod.build_table(runs, tmp_path / "table.md", names)
    assert text == (ROOT / "results" / "neuron_table.md").read_text()
    try:
        git = subprocess.run(["git", "ls-files", "results"], cwd=ROOT, capture_output=True, text=True, check=False)
        tracked = git.stdout.split()
    except OSError:
        tracked = []
    if not tracked:
        pytest.skip("not a git checkout: cannot tell which files of results/ are committed")
    assert not [f for f in tracked if f.endswith(".pt")]
