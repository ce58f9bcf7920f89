"""``utils.runs.experiment_of``: the experiment file a run's config is an instance of, top-level or in a
sub-folder of ``configs/experiment/`` (``yin2021/<name>``: the published networks)."""

import pytest
from omegaconf import OmegaConf

from srnn_bench.resources import choices, compose
from srnn_bench.utils.runs import experiment_of


def _saved(experiment: str, *overrides: str) -> dict:
    """What a run's config.yaml holds for ``experiment=<experiment>`` (keys of the identity unresolved: no
    ``${run_uid:}`` needed)."""
    return OmegaConf.to_container(compose([f"experiment={experiment}", *overrides]), resolve=False)


def test_there_are_nested_experiments_to_find():
    nested = [n for n in choices("experiment") if "/" in n]
    assert "yin2021/ecg_0_8589" in nested and "yin2021/shd_90_7" in nested


@pytest.mark.parametrize("experiment", ["yin2021/ecg_0_8589", "yin2021/shd_90_7", "yin2021/smnist_98_21"])
def test_a_run_of_a_nested_experiment_is_an_instance_of_that_file(experiment):
    assert experiment_of(_saved(experiment)) == experiment


def test_top_level_files_first_and_a_different_run_is_none():
    assert experiment_of(_saved("ecg_alif")) == "ecg_alif"
    assert experiment_of(_saved("shd_alif")) == "shd_alif"
    # yin2021/ecg_0_8589 has ecg_alif's identity: the file experiment_name names wins, else the top-level one
    config = _saved("yin2021/ecg_0_8589")
    assert experiment_of({**config, "experiment_name": "ecg_alif"}) == "ecg_alif"
    assert experiment_of({**config, "experiment_name": "my_run"}) == "ecg_alif"
    assert experiment_of(_saved("yin2021/shd_87_41")) == "yin2021/shd_87_41"  # not shd_90_7, same identity
    assert experiment_of(_saved("yin2021/ecg_0_8589", "model.hidden=[37]")) is None
    assert experiment_of(None) is None


@pytest.mark.parametrize("experiment", ["yin2021/ecg_0_8589", "yin2021/shd_90_7", "ecg_alif"])
def test_run_name_of_an_experiment_as_composed_is_its_experiment_name(experiment):
    """A nested experiment's groups are read from its own file (experiment_file): its run name has no
    ``+group=option`` suffix, as the zoo records in results/zoo/ say (``yin2021_ecg_0_8589``)."""
    from srnn_bench.utils.runs import experiment_file

    cfg = compose([f"experiment={experiment}"])
    assert experiment_file(cfg.experiment_name) == experiment
    assert cfg.run_name == cfg.experiment_name
    assert compose([f"experiment={experiment}", "surrogate=gaussian"]).run_name == f"{cfg.experiment_name}+surrogate=gaussian"
