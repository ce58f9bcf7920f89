"""``TrainerConfig`` is the ``trainer`` config node: one definition of each default (configs/trainer/default.yaml),
every key of that file reaches it, and no code-side fallback for a trainer key disagrees with the YAML."""

import ast
import dataclasses
from pathlib import Path

import pytest
import yaml
from conftest import CONFIG_DIR, compose
from omegaconf import OmegaConf

from srnn_bench.training.trainer import TrainerConfig

YAML = yaml.safe_load((CONFIG_DIR / "trainer" / "default.yaml").read_text())
PACKAGE = Path(__file__).resolve().parents[2] / "srnn_bench"
TYPES = {"int": int, "float": (int, float), "str": str, "bool": bool}

# a value for every key, none of them its default (valid together: the config validation accepts them)
OTHER = {
    "epochs": 3, "batch_size": 7, "eval_batch_size": 11, "lr": 0.5, "seed": 5, "device": "cpu", "dtype": "float64",
    "loss": "per_step", "skip_steps": 2, "grad_clip": 1.5, "tbptt_steps": 4, "tbptt_update": "chunk",
    "num_threads": 2, "num_workers": 1, "progress": False, "checkpoint_every_steps": 9, "checkpoint_every_min": 3.5,
    "on_nonfinite": "skip",
}


def test_fields_are_the_yaml_keys_with_the_yaml_defaults_and_typed():
    fields = {f.name: f for f in dataclasses.fields(TrainerConfig)}
    assert set(fields) == set(YAML)
    default = TrainerConfig()
    for key, value in YAML.items():
        assert getattr(default, key) == value, key
        kind, *optional = str(fields[key].type).split(" | ")
        assert optional in ([], ["None"]), (key, fields[key].type)
        assert value is None and optional or isinstance(value, TYPES[kind]), (key, fields[key].type, value)


def test_every_yaml_key_reaches_trainer_config_from_the_composed_config():
    assert set(OTHER) == set(YAML)  # a key added to the YAML needs a value here
    assert all(OTHER[k] != YAML[k] for k in YAML)
    cfg = compose([f"trainer.{k}={'null' if v is None else str(v).lower() if isinstance(v, bool) else v}"
                   for k, v in OTHER.items()])
    tc = TrainerConfig.from_node(cfg.trainer)
    assert dataclasses.asdict(tc) == OTHER
    assert TrainerConfig.from_node(compose([]).trainer) == TrainerConfig()  # the default config: the YAML


def test_from_node_of_a_saved_config():
    old = OmegaConf.create({"epochs": 2, "batch_size": 8, "loss": "last", "seed": 1, "lr": 0.1, "device": "cpu",
                            "tbptt_steps": None, "tbptt_update": None, "checkpoint_every_min": None})
    tc = TrainerConfig.from_node(old)  # a run written before a key existed: its YAML default
    assert (tc.epochs, tc.loss, tc.eval_batch_size, tc.dtype, tc.on_nonfinite) == (2, "last", 500, "float32", "stop")
    assert (tc.tbptt_steps, tc.tbptt_update, tc.checkpoint_every_min) == (0, "sequence", None)  # null: default / off
    with pytest.raises(ValueError, match=r"^unknown key 'trainer.epoch'; valid keys of trainer: batch_size, ") as e:
        TrainerConfig.from_node({"epoch": 3})
    assert "\n" not in str(e.value)


def _trainer_receiver(node: ast.expr) -> bool:
    text = ast.unparse(node)
    return text in ("tr", "trainer", "cfg.trainer", "self.cfg") or text.endswith(("['trainer']", ".trainer"))


def _fallbacks_in(source: str, name: str) -> list[tuple[str, int, str, object]]:
    """(file, line, key, default) of every ``<trainer node>.get("key", default)`` and ``... .get("key") or default``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        call, default = None, None
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or) and len(node.values) == 2:
            call, default = node.values[0], node.values[1]
        elif isinstance(node, ast.Call) and len(node.args) == 2:
            call, default = node, node.args[1]
        if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "get"
                and call.args and isinstance(call.args[0], ast.Constant) and call.args[0].value in YAML
                and _trainer_receiver(call.func.value) and isinstance(default, ast.Constant)):
            found.append((name, node.lineno, call.args[0].value, default.value))
    return found


def _fallbacks() -> list[tuple[str, int, str, object]]:
    return [f for path in sorted(PACKAGE.rglob("*.py"))
            for f in _fallbacks_in(path.read_text(), str(path.relative_to(PACKAGE)))]


def _disagreeing(found):
    return [f for f in found if f[3] != YAML[f[2]] and not (f[3] in (0, None) and YAML[f[2]] in (0, None))]


def test_no_code_side_trainer_default_disagrees_with_the_yaml():
    found = _fallbacks()
    assert any(f[0] == "config_validation.py" for f in found)  # the scan sees the fallbacks there
    assert not _disagreeing(found), f"code-side defaults that disagree with configs/trainer/default.yaml: {found}"
    assert not [f for f in found if f[0] in ("run.py", "evaluate.py", "zoo/cli.py")]  # these read TrainerConfig


def test_the_scan_sees_a_disagreeing_default():
    src = "def f(tr, cfg):\n    return tr.get('eval_batch_size', 256), cfg['trainer'].get('tbptt_update') or 'chunk'\n"
    assert _disagreeing(_fallbacks_in(src, "x.py")) == [("x.py", 2, "eval_batch_size", 256),
                                                        ("x.py", 2, "tbptt_update", "chunk")]
