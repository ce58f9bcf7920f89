"""Model, readout, neuron and encoder defaults have one source, their ``configs/<group>/<name>.yaml`` (issue
#15): ``build_model``, ``build_readout``, ``build_cell`` and ``build_encoder`` merge what they are given over it
(``srnn_bench.resources.with_defaults``) and the builders index ``cfg[key]`` instead of repeating a default."""

from pathlib import Path

import pytest
import torch
import yaml
from test_data_defaults import repeated_defaults

from srnn_bench.encoders import ENCODERS, build_encoder
from srnn_bench.models import build_model
from srnn_bench.models.readouts import readout_defaults
from srnn_bench.neurons import CELLS, build_cell
from srnn_bench.resources import group_defaults, with_defaults
from srnn_bench.surrogates import build_surrogate

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "srnn_bench"


def _keys(group: str) -> set[str]:
    out: set[str] = set()
    for path in (ROOT / "configs" / group).glob("*.yaml"):
        data = yaml.safe_load(path.read_text()) or {}
        out |= set(data) | (set(data.get("readout") or {}) if group == "model" else set())
    return out - {"defaults", "name"}


@pytest.mark.parametrize(("group", "files"), [
    ("model", ["models/__init__.py", "models/srnn.py", "models/readouts.py"]),
    ("neuron", ["neurons/__init__.py"]),
    ("encoder", ["encoders/__init__.py"]),
])
def test_no_builder_repeats_a_default_its_yaml_defines(group, files):
    keys = _keys(group)
    assert keys  # the YAML files are there
    for name in files:
        assert repeated_defaults((PKG / name).read_text(), keys) == [], f"{name}: index cfg[key] instead"


def test_with_defaults_merges_mappings_key_by_key_and_replaces_the_rest():
    merged = with_defaults("model", {"name": "srnn", "hidden": [3], "readout": {"kind": "linear"}})
    assert merged["hidden"] == [3] and merged["bias"] is True and merged["bidirectional_merge"] == "mean"
    assert merged["readout"]["kind"] == "linear" and merged["readout"]["group"] == 10  # readout keys merged in
    fresh = group_defaults("model", "srnn")
    fresh["hidden"].append(99)  # a copy: the cached file is untouched
    assert group_defaults("model", "srnn")["hidden"] == [128, 128]
    with pytest.raises(ValueError, match=r"unknown neuron 'alfi' \(no .*\); valid choices: alif, gru, lif"):
        with_defaults("neuron", {"name": "alfi"})


@pytest.mark.parametrize("name", sorted(CELLS))
def test_a_neuron_named_only_is_its_yaml(name):
    """``{"name": n}`` builds the cell of configs/neuron/<n>.yaml: the same parameters as the full file."""
    sur = build_surrogate({"name": "multi_gaussian"})
    torch.manual_seed(0)
    short = build_cell({"name": name}, 4, sur)
    torch.manual_seed(0)
    full = build_cell(group_defaults("neuron", name), 4, sur)
    assert short.extra_repr() == full.extra_repr()
    assert all(torch.equal(a, b) for a, b in zip(short.state_dict().values(), full.state_dict().values()))


def test_model_readout_and_encoder_named_only_are_their_yaml():
    sur = build_surrogate({"name": "multi_gaussian"})
    neuron = group_defaults("neuron", "alif")
    torch.manual_seed(0)
    short = build_model({"name": "srnn", "readout": {"kind": "population"}}, 5, 3, neuron, sur)
    torch.manual_seed(0)
    full = build_model({**group_defaults("model", "srnn"), "readout": {**readout_defaults(), "kind": "population"}},
                       5, 3, neuron, sur)
    assert [l.size for l in short.layers] == [128, 128] and short.final.size == 10 * 3  # group 10 from the YAML
    assert all(torch.equal(a, b) for a, b in zip(short.state_dict().values(), full.state_dict().values()))
    for name in ENCODERS:
        short, full = build_encoder({"name": name}), build_encoder(group_defaults("encoder", name))
        assert _settings(short) == _settings(full) and _settings(short), name
    assert build_encoder({"name": "identity"}).hold_steps == group_defaults("encoder", "identity")["hold_steps"]


def _settings(module) -> dict:
    """An encoder's public attributes (its settings) and buffers, as comparable values."""
    out = {k: v for k, v in vars(module).items() if not k.startswith("_") and k != "training"}
    return {**out, **{k: b.tolist() for k, b in module.named_buffers()}}


def test_a_neuron_named_only_gets_its_yaml_backend_too():
    """The layer's backend is a neuron key like the others: ``{"name": "alif"}`` runs alif.yaml's backend."""
    sur = build_surrogate({"name": "multi_gaussian"})
    for name in ("alif", "lstm", "src"):
        model = build_model({"name": "srnn", "hidden": [3]}, 2, 2, {"name": name}, sur)
        assert model.layers[0].backend == group_defaults("neuron", name)["backend"], name
