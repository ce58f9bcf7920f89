"""The package installs like one: a wheel built from this checkout holds every module and every config, and,
installed into a fresh venv (reusing this interpreter's torch, no network), runs from outside the checkout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from conftest import CONFIG_DIR, ROOT

from srnn_bench.utils import layout

pytest.importorskip("setuptools", reason="building the wheel offline (--no-build-isolation) needs setuptools")

SOURCES = ("pyproject.toml", "README.md", "srnn_bench", "configs")  # what the wheel is built from
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")


def run(cmd, **kw):
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False, **kw)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel of the working tree, built from a copy (the build writes build/ and *.egg-info/)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=IGNORE)
        else:
            shutil.copy2(path, src / name)
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index",
         "-w", str(tmp / "dist"), str(src)], cwd=tmp)  # fmt: skip
    (whl,) = (tmp / "dist").glob("srnn_bench-*.whl")
    return whl


def package_files() -> set[str]:
    """Every file of srnn_bench/ that git does not ignore (modules and data), relative to the checkout."""
    cmd = ["git", "ls-files", "--cached", "--others", "--exclude-standard", "srnn_bench"]
    listed = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False).stdout.split()
    if not listed:  # not a git checkout
        listed = [
            p.relative_to(ROOT).as_posix() for p in (ROOT / "srnn_bench").rglob("*") if p.suffix in (".py", ".cpp")
        ]
    return {f for f in listed if (ROOT / f).is_file() and "__pycache__" not in f}


def test_wheel_holds_every_module_and_config(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(package_files() - names)
    assert not missing, (
        f"not in the wheel: {missing}; add their package to [tool.setuptools] packages (a data file: to "
        "[tool.setuptools.package-data]) in pyproject.toml"
    )
    configs = {f"srnn_bench/configs/{p.relative_to(CONFIG_DIR).as_posix()}" for p in CONFIG_DIR.rglob("*.yaml")}
    assert len(configs) > 50 and "srnn_bench/configs/config.yaml" in configs
    assert not sorted(configs - names), sorted(configs - names)
    entry = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "srnn-bench = srnn_bench.__main__:entry" in entry


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh venv with the wheel installed (no dependencies: they come from this interpreter's site-packages
    through a .pth file, so torch is not downloaded). It sits inside an unrelated git repository, whose commit
    a run must not take for srnn_bench's."""
    repo = tmp_path_factory.mktemp("repo")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(repo)]
    if shutil.which("git"):
        run([*git, "init", "-q"])
        run([*git, "commit", "-q", "--allow-empty", "-m", "unrelated"])
    env_dir = repo / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)])
    py = env_dir / "bin" / "python"
    site = Path(run([str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]).stdout.strip())
    base = dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])  # ordered, unique
    (site / "_srnn_bench_test_base.pth").write_text("".join(f"{p}\n" for p in base))
    run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps", "--no-index", str(wheel)])
    return env_dir


def outside_env(tmp: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SRNN_BENCH_DATA", "SRNN_BENCH_OUTPUTS")}
    return {**env, "OMP_NUM_THREADS": "1", "WANDB_MODE": "offline", "SRNN_BENCH_DATA": str(tmp / "data")}


def test_installed_package_runs_outside_the_checkout(venv, tmp_path):
    py, cli = venv / "bin" / "python", venv / "bin" / "srnn-bench"
    env, cwd = outside_env(tmp_path), tmp_path  # not the checkout, no PYTHONPATH
    probe = "import srnn_bench, srnn_bench.resources as r; print(srnn_bench.__file__); print(r.CONFIG_DIR); print(r.missing())"
    where = run([str(py), "-c", probe], cwd=cwd, env=env).stdout.split("\n")
    assert Path(where[0]).is_relative_to(venv) and Path(where[1]) == Path(where[0]).parent / "configs", where
    assert where[2] == "None"

    job = run([str(py), "-m", "srnn_bench", "--cfg", "job"], cwd=cwd, env=env).stdout
    here = run([sys.executable, "-m", "srnn_bench", "--cfg", "job"], cwd=ROOT,
               env={**outside_env(tmp_path), "PYTHONPATH": str(ROOT)}).stdout  # fmt: skip
    assert "experiment_name: mnist1d_alif" in job and job == here  # the same composed config as the checkout's

    bad = subprocess.run(
        [str(cli), "neuron=alfi"], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert bad.returncode == 2 and bad.stderr.strip().startswith("srnn_bench: error: unknown neuron 'alfi'")

    run_dir = tmp_path / "run"
    run([str(cli), "debug=smoke", "model.hidden=[16]", "neuron.backend=reference", f"hydra.run.dir={run_dir}"],
        cwd=cwd, env=env)  # debug=smoke: configs/debug/ ships in the wheel too
    metrics = json.loads((run_dir / layout.METRICS).read_text())
    assert metrics["epochs"] == 1 and 0.0 <= metrics["test_acc"] <= 1.0 and metrics["dataset"] == "mnist1d"
    assert layout.checkpoint(run_dir, layout.LAST).is_file() and (tmp_path / "data").is_dir()
    env_json = json.loads((run_dir / layout.ENV).read_text())
    assert env_json["git"] == {"commit": None, "dirty": None}  # not the commit of the repository around the venv
    assert env_json["packages"]["srnn-bench"] == "0.1.0"


def test_checkout_finds_its_own_configs():
    """From a checkout (PYTHONPATH or editable), the configs are this checkout's, whatever an editable
    install of another checkout maps ``srnn_bench.configs`` to."""
    from srnn_bench import resources

    assert resources.CHECKOUT == ROOT and resources.CONFIG_DIR == ROOT / "configs" == CONFIG_DIR
    assert resources.missing() is None and "experiment" in resources.groups()
    assert resources.choices("neuron") == sorted(p.stem for p in (ROOT / "configs" / "neuron").glob("*.yaml"))
