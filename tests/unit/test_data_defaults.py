"""Dataset defaults have one source, ``configs/dataset/<name>.yaml`` (issue #15): readers get their config
over those defaults (``srnn_bench.data.base.with_defaults``, applied by ``build_data``) and repeat none."""

import ast
from pathlib import Path

import pytest
import yaml

from srnn_bench.data import DATASETS, build_data
from srnn_bench.data.base import with_defaults, yaml_defaults
from srnn_bench.data.fixtures import random_mnist
from srnn_bench.resources import compose

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "srnn_bench" / "data"


def _yaml(name: str) -> dict:
    return yaml.safe_load((ROOT / "configs" / "dataset" / f"{name}.yaml").read_text())


def repeated_defaults(source: str, keys: set[str]) -> list[str]:
    """``cfg.get("<key>", ...)`` / ``cfg.get("<key>")`` calls in ``source`` for one of ``keys``: a default
    written again next to (and possibly disagreeing with) the YAML's."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "cfg" and node.args
                and isinstance(node.args[0], ast.Constant) and node.args[0].value in keys):
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


def test_the_checker_finds_a_repeated_default():
    src = 'def build(cfg):\n    a = cfg.get("val_fraction", 0.0)\n    b = cfg["split_seed"]\n    c = d.get("val_fraction")\n'
    assert repeated_defaults(src, {"val_fraction", "split_seed"}) == ["line 2: cfg.get('val_fraction', 0.0)"]


def test_no_reader_repeats_a_default_its_yaml_defines():
    served: dict[str, set[str]] = {}
    for name, module in DATASETS.items():
        served.setdefault(module.rpartition(".")[2], set()).update(_yaml(name))
    every_key = set().union(*served.values())
    for path in sorted(DATA.rglob("*.py")):
        # readers: the keys of the configs they serve; the helpers they share (base, sparse, ...): any key
        keys = served.get(path.stem, set()) if path.parent.name == "datasets" else every_key
        assert repeated_defaults(path.read_text(), keys) == [], f"{path.relative_to(ROOT)}: index cfg[key] instead"


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_with_defaults_is_the_yaml_and_the_given_keys_win(name):
    assert with_defaults({"name": name}) == _yaml(name) == yaml_defaults(name)
    composed = compose([f"dataset={name}", "dataset.limit_test=3"]).dataset
    merged = with_defaults(composed)
    assert merged == {**_yaml(name), "limit_test": 3}
    assert with_defaults({"name": name, "limit_train": 7})["limit_train"] == 7


def test_with_defaults_resolves_interpolations_of_the_composed_config():
    cfg = compose(["dataset=ecg", "dataset.root=${paths.data_dir}/qtdb_copy"])
    assert with_defaults(cfg.dataset)["root"] == f"{cfg.paths.data_dir}/qtdb_copy"


def test_an_unknown_dataset_names_the_choices():
    with pytest.raises(ValueError, match=r"unknown dataset 'mnist2'.*valid choices: .*psmnist"):
        with_defaults({"name": "mnist2"})


def test_a_partial_config_builds_with_the_yaml_values(tmp_path):
    """psmnist.yaml: window 4, permute true, val_fraction 0.1 -- the readers' old literal defaults were
    window 1, no permutation and no validation split; the YAML now decides."""
    random_mnist(tmp_path / "MNIST" / "raw", n_train=20, n_test=10)
    d = build_data({"name": "psmnist", "download": False}, str(tmp_path))
    full = build_data({**_yaml("psmnist"), "download": False}, str(tmp_path))
    assert d.n_inputs == 4 == full.n_inputs and d.n_steps == 784
    assert len(d.val) == 2 == len(full.val) and len(d.train) == 18
    assert (d.train[0][0] == full.train[0][0]).all()
