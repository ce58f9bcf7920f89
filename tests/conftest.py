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

from srnn_bench.resources import CONFIG_DIR, compose  # noqa: F401 - re-exported for the tests

ROOT = Path(__file__).resolve().parents[1]


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
