"""scripts/check_imports.py: every module imports, and the package's import graph has no cycle."""

import subprocess
import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import check_imports


def test_package_imports_without_cycles():
    cmd = [sys.executable, "scripts/check_imports.py"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert " 0 cycle(s), 0 failed import(s)" in proc.stdout


def test_state_lives_below_kernels_and_layers():
    g = check_imports.graph()
    assert "srnn_bench.state" in g["srnn_bench.neurons.alif"] and "srnn_bench.state" in g["srnn_bench.models.layers"]
    assert "srnn_bench.models.layers" not in g["srnn_bench.kernels.dispatch"]
    assert not g["srnn_bench.state"]  # imports nothing of the package


def test_kernels_know_no_cell_and_subpackages_have_no_cycle():
    """Issue 15: the cells declare their backends and call the kernels; the kernels import no neuron or model
    (the old ``isinstance`` chain in kernels/dispatch.py made kernels <-> neurons a sub-package cycle)."""
    g = check_imports.graph()
    kernel_imports = {dst for src, dsts in g.items() if src.startswith("srnn_bench.kernels") for dst in dsts}
    assert not {m for m in kernel_imports if m.startswith(("srnn_bench.neurons", "srnn_bench.models"))}
    assert "srnn_bench.kernels.dispatch" in g["srnn_bench.neurons.alif"]
    assert check_imports.cycles(check_imports.collapse(g)) == []
    proc = subprocess.run([sys.executable, "scripts/check_imports.py", "--packages"], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0 and " 0 cycle(s)" in proc.stdout, proc.stdout[-2000:]


def test_a_deferred_cycle_is_found(tmp_path):
    pkg = tmp_path / "toypkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .sub.b import f\n")
    (pkg / "sub" / "__init__.py").write_text("from .b import f\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from ..a import g  # deferred\n\ndef g():\n    pass\n")
    (pkg / "c.py").write_text("import toypkg.sub\n")  # no cycle: sub -> sub.b only
    g = check_imports.graph(tmp_path, "toypkg")
    assert g["toypkg.a"] == {"toypkg.sub.b": [(1, False)]} and g["toypkg.sub.b"] == {"toypkg.a": [(2, True)]}
    assert g["toypkg.c"] == {"toypkg.sub": [(1, False)]}
    assert check_imports.cycles(g) == [["toypkg.a", "toypkg.sub.b"]]
    assert check_imports.closed_path(g, ["toypkg.a", "toypkg.sub.b"]) == ["toypkg.a", "toypkg.sub.b", "toypkg.a"]


def test_no_module_imports_an_entry_point():
    """Issue 15: energy.py imported ``__main__``; the shared checks now live in srnn_bench.cli, the cost report in
    srnn_bench.reporting.energy, and srnn_bench.energy is only the ``python -m`` shim."""
    g = check_imports.graph()
    assert check_imports.entry_imports(g) == []
    assert "srnn_bench.cli" in g["srnn_bench.__main__"] and "srnn_bench.cli" in g["srnn_bench.reporting.energy"]
    assert set(g["srnn_bench.energy"]) == {"srnn_bench.reporting.energy"}
    toy = {"p.a": {"p.__main__": [(3, True)]}, "p.__main__": {}, "p.shim": {}, "p.b": {"p.shim": [(1, False)]}}
    assert check_imports.entry_imports(toy, {"p.shim"}) == [("p.a", "p.__main__", 3), ("p.b", "p.shim", 1)]


def test_encoders_and_dataset_readers_are_one_module_per_config():
    """Issue 15 layout: configs/encoder/<name>.yaml -> srnn_bench/encoders/<name>.py (datasets: test_data_listing)."""
    from srnn_bench.encoders import ENCODERS

    names = {p.stem for p in (ROOT / "configs" / "encoder").glob("*.yaml")}
    assert set(ENCODERS) == names
    for name, cls in ENCODERS.items():
        assert cls.__module__ == f"srnn_bench.encoders.{name}", (name, cls.__module__)
