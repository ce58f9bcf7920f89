"""Shared test setup: pinned threads (2-core CI), offline, and helpers to compose/run configs."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")

from pathlib import Path

import pytest
import torch

torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = ROOT / "configs"


def compose(overrides: list[str] | None = None, config_name: str = "config"):
    """Compose the project config like the command line does (no Hydra runtime)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(version_base="1.3", config_dir=str(CONFIG_DIR)):
        return hydra_compose(config_name=config_name, overrides=list(overrides or []))


@pytest.fixture
def run_cfg(tmp_path):
    """Compose a config whose outputs and data go to a temporary directory."""

    def make(overrides: list[str] | None = None, data_dir: Path | None = None):
        return compose(
            [
                f"paths.output_dir={tmp_path / 'outputs'}",
                f"paths.run_dir={tmp_path / 'run'}",
                f"paths.data_dir={data_dir or tmp_path / 'data'}",
                "trainer.progress=false",
                "trainer.device=cpu",
                *(overrides or []),
            ]
        )

    return make
