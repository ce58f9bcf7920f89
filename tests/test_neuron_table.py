"""scripts/neuron_table.py builds its table from run directories (numbers read, never typed)."""

import importlib.util
import json

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
