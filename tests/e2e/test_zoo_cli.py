"""zoo registry, ``zoo import`` / ``verify`` / ``table`` and ``python -m srnn_bench.evaluate``.

The real converters (srnn_bench.zoo.yin2021_rnn / yin2021_gsc_timit) are other modules' business; here a
converter defined in the test maps a checkpoint "saved by the authors' scripts" (a state_dict with other
names, written by the test) onto the ``mnist1d_alif`` experiment, so every step runs on generated data.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf

from srnn_bench.zoo import cli, registry
from srnn_bench.zoo.convert import Converter, shapes_match

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("SRNN_BENCH_DATA") or ROOT.parent / "shared" / "data")
FAKE = "tests_fake_converters"
PREFIX = "authors_net."


def _model_of(cfg, n_in, n_classes=10):
    from srnn_bench.models import build_model
    from srnn_bench.surrogates import build_surrogate

    return build_model(cfg.model, n_in, n_classes, cfg.neuron, build_surrogate(cfg.surrogate))


def _converter(n_in: int, keys: dict[str, tuple]) -> Converter:
    def state_dict(ckpt, model):
        return {k[len(PREFIX):]: v for k, v in ckpt.state.items()}

    return Converter("mnist1d_alif", n_in, 10, lambda c: shapes_match(c, keys), state_dict)


@pytest.fixture
def zoo(tmp_path, monkeypatch):
    """A data dir holding a fake 'published' checkpoint under the authors' layout, its registry entry
    and converter (module ``tests_fake_converters``), and a trained-looking set of weights."""
    from srnn_bench.cli import compose_checked
    from srnn_bench.encoders import build_encoder

    data = tmp_path / "data"
    cfg = compose_checked(["experiment=mnist1d_alif", f"paths.data_dir={data}"])
    n_in = build_encoder(cfg.encoder).out_features(1)  # MNIST-1D: one channel, 40 steps
    torch.manual_seed(123)
    model = _model_of(cfg, n_in)
    weights = {PREFIX + k: v.clone() for k, v in model.state_dict().items()}
    repo_path = "NMI_vis/toy/model_12.5|x [1].pth"
    ckpt = data / "yin2021" / repo_path
    ckpt.parent.mkdir(parents=True)
    torch.save(weights, ckpt)
    keys = {k: tuple(v.shape) for k, v in weights.items()}
    monkeypatch.setitem(sys.modules, FAKE, types.SimpleNamespace(CONVERTERS={"toy_12.5": _converter(n_in, keys)}))
    e = registry.Published(
        "toy_12.5", "MNIST-1D (test)", "toy", repo_path, registry.sha256_of(ckpt), "ecg_alif", f"{FAKE}:CONVERTERS",
        authors_code=(registry.Number(50.0, "a made-up deterministic number", "test_acc", 100.0),),
        data=(registry.DataNeed("nothing-needed*", "x", "y"),) * 0,
    )
    monkeypatch.setattr(registry, "ENTRIES", (*registry.ENTRIES, e))
    monkeypatch.setitem(registry.REGISTRY, e.name, e)
    monkeypatch.setenv("SRNN_BENCH_DATA", str(data))
    return types.SimpleNamespace(data=data, ckpt=ckpt, entry=e, weights=weights, n_in=n_in, tmp=tmp_path)


# -- registry --------------------------------------------------------------------------------------
def test_registry_has_the_eight_published_files_with_the_readme_sha256():
    assert list(registry.REGISTRY) == ["ecg_0.8589", "shd_90.7", "shd_87.41", "ssc_74.19", "gsc_0.91398",
                                       "timit_0.66292", "smnist_98.21", "psmnist_94.73"]
    readme = SHARED / "README.md"
    if not readme.is_file():
        pytest.skip(f"{readme} absent (the shared data copy is not next to the repository)")
    text = readme.read_text()
    for e in registry.ENTRIES:
        assert f"`yin2021/{e.repo_path}` | `{e.sha256}`" in text, e.name


def test_paper_numbers_come_from_the_one_paper_values_file():
    import yaml

    values = yaml.safe_load((ROOT / "results" / "paper_values" / "yin2021_table1.yaml").read_text())
    for e in registry.ENTRIES:
        assert e.paper["accuracy"] == values["cells"][e.paper_cell]["accuracy"]
    assert registry.entry("smnist_98.21").paper["accuracy"] == 98.7


def test_raw_url_percent_encodes_bar_space_and_brackets():
    e = registry.entry("psmnist_94.73")
    assert e.url == (registry.RAW_BASE + "NMI_vis/smnist/model_94.73_Task-psmnist%7C%7CTime-07-12-2022%2014:26:15%7C%7C"
                     "EC_f--rbf%7C%7CDC_f--adp-spike%7C%7Cmultiinput-multi_input.pth")
    assert registry.entry("ssc_74.19").url.endswith("model_74.18800902757334-v3-%5B400,%20400%5D-2layer_MG.pth")


def test_locate_finds_the_authors_layout_and_checks_sha256(zoo, tmp_path):
    assert registry.locate("toy_12.5", zoo.data) == zoo.ckpt
    with pytest.raises(registry.ZooError, match=r"checkpoint not found at .*put the file there \(get it from https://raw"):
        registry.locate("toy_12.5", tmp_path / "elsewhere", download=False)
    zoo.ckpt.write_bytes(zoo.ckpt.read_bytes() + b"x")
    with pytest.raises(registry.ZooError, match="sha256 .* does not match the published file's"):
        registry.locate("toy_12.5", zoo.data)


def test_download_is_sha256_checked_and_atomic(zoo, tmp_path):
    good = registry.fetch(zoo.ckpt.as_uri(), tmp_path / "dl" / "a.pth", zoo.entry.sha256)
    assert good.read_bytes() == zoo.ckpt.read_bytes()
    with pytest.raises(registry.ZooError, match="downloaded sha256 .* does not match"):
        registry.fetch(zoo.ckpt.as_uri(), tmp_path / "dl" / "b.pth", "0" * 64)
    assert sorted(p.name for p in (tmp_path / "dl").iterdir()) == ["a.pth"]  # no partial file left
    with pytest.raises(registry.ZooError, match="URLError"):
        registry.fetch((tmp_path / "no-such").as_uri(), tmp_path / "dl" / "c.pth", "0" * 64)
    assert sorted(p.name for p in (tmp_path / "dl").iterdir()) == ["a.pth"]


def test_cli_list_shows_every_entry_and_whether_its_file_is_here(capsys, tmp_path):
    assert cli.main(["--data-dir", str(tmp_path), "list"]) == 0
    out = capsys.readouterr().out
    for e in registry.ENTRIES:
        assert e.name in out
    assert "present" not in out and out.count("absent") == len(registry.ENTRIES)


# -- import ----------------------------------------------------------------------------------------
def test_import_by_name_writes_a_resumable_run_directory(zoo):
    out = cli.import_checkpoint("toy_12.5", zoo.tmp / "run", str(zoo.data))
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["sha256"] == zoo.entry.sha256 and prov["published_file"] and prov["url"] == zoo.entry.url
    assert prov["converter"] == f"{FAKE}:CONVERTERS['toy_12.5']" and prov["source_file"] == str(zoo.ckpt.resolve())
    assert json.loads((out / "env.json").read_text())["git"]["commit"]
    cfg = OmegaConf.load(out / "config.yaml")
    assert cfg.experiment_name == "mnist1d_alif" and cfg.paths.data_dir == str(zoo.data)
    ckpt = torch.load(out / "checkpoints" / "last.pt", weights_only=False)
    assert ckpt["epoch"] == 0 and ckpt["history"] == [] and ckpt["data_order"] is None
    for k, v in ckpt["model"].items():
        assert torch.equal(v, zoo.weights[PREFIX + k]), k  # the published tensors, unchanged


def test_import_file_is_recognised_by_its_parameter_names_and_shapes(zoo):
    other = zoo.tmp / "my_retrained.pth"
    torch.save({k: v + 1 for k, v in zoo.weights.items()}, other)  # same names/shapes, other sha256
    out = cli.import_checkpoint(str(other), zoo.tmp / "run2", str(zoo.data))
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["zoo_name"] == "toy_12.5" and not prov["published_file"] and prov["url"] is None
    named = cli.import_checkpoint(str(other), zoo.tmp / "run_as", str(zoo.data), as_name="toy_12.5")
    assert json.loads((named / "provenance.json").read_text())["sha256"] == registry.sha256_of(other)
    bad = zoo.tmp / "other_net.pth"
    torch.save({"w": torch.zeros(3)}, bad)
    with pytest.raises(registry.ZooError, match="no converter recognises its parameters"):
        cli.import_checkpoint(str(bad), zoo.tmp / "run3", str(zoo.data))


def test_import_refuses_a_training_record_and_unknown_sources(zoo):
    out = zoo.tmp / "trained"
    out.mkdir()
    (out / "metrics.jsonl").write_text("{}\n")
    with pytest.raises(registry.ZooError, match="holds a training record"):
        cli.import_checkpoint("toy_12.5", out, str(zoo.data))
    with pytest.raises(registry.ZooError, match="neither a published model .* nor an existing file"):
        cli.import_checkpoint("nope", zoo.tmp / "x", str(zoo.data))


def _cli(*args, env=None, cwd=ROOT):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.run([sys.executable, *args], check=False, capture_output=True, text=True, cwd=cwd, env=env, timeout=600)


def test_cli_errors_are_one_line_exit_2(tmp_path):
    r = _cli("-m", "srnn_bench.zoo", "--data-dir", str(tmp_path), "import", "ecg_0.8589", "--no-download")
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and "checkpoint not found at" in r.stderr and "sha256" in r.stderr
    r = _cli("-m", "srnn_bench.zoo", "verify", "nope")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "valid choices: ecg_0.8589" in r.stderr


# -- evaluate --------------------------------------------------------------------------------------
def test_evaluate_writes_eval_and_leaves_the_training_record_alone(zoo):
    from srnn_bench.evaluate import evaluate_run

    run = cli.import_checkpoint("toy_12.5", zoo.tmp / "run", str(zoo.data))
    (run / "metrics.json").write_text('{"test_acc": 0.1}\n')  # pretend a training record exists
    (run / "metrics.jsonl").write_text('{"epoch": 1}\n')
    before = {n: (run / n).read_bytes() for n in ("config.yaml", "metrics.json", "metrics.jsonl", "checkpoints/last.pt")}
    m = evaluate_run(run, ["dataset.limit_test=50", "trainer.dtype=float64", "trainer.eval_batch_size=20"])
    assert {n: (run / n).read_bytes() for n in before} == before
    on_disk = json.loads((run / "eval" / "metrics.json").read_text())
    assert on_disk["test_acc"] == m["test_acc"] and m["n_test"] == 50 and m["dtype"] == "float64"
    for key in ("firing_rate_per_layer", "sop_per_sample", "energy_per_step_pj", "test_anytime_acc", "mac_per_step"):
        assert key in m, key
    conf = json.loads((run / "eval" / "test_confusion.json").read_text())
    assert sum(map(sum, conf["matrix"] if isinstance(conf, dict) else conf)) == 50
    # float32 and float64 evaluate the same weights; the accuracy is a real measurement of them
    m32 = evaluate_run(run, ["dataset.limit_test=50", "trainer.dtype=float32"], out=zoo.tmp / "e32")
    assert abs(m32["test_acc"] - m["test_acc"]) <= 0.1 and m32["dtype"] == "float32"


def test_evaluate_bad_overrides_are_one_line(zoo):
    from srnn_bench.evaluate import main

    run = cli.import_checkpoint("toy_12.5", zoo.tmp / "run", str(zoo.data))
    for args, msg in (
        (["trainer.lr=1"], "trainer.lr cannot be changed for an evaluation"),
        (["trainer.dtype=float16"], "unknown trainer.dtype 'float16'; valid choices: float32, float64"),
        (["dataset.nope=1"], "unknown key 'dataset.nope'"),
    ):
        r = _cli("-m", "srnn_bench.evaluate", str(run), *args)
        assert r.returncode == 2 and r.stderr.count("\n") == 1 and msg in r.stderr, (args, r.stderr)
    assert main([str(zoo.tmp)]) == 2  # not a run directory
    # overrides may follow the options
    assert main([str(run), "--out", str(zoo.tmp / "e"), "dataset.limit_test=5", "trainer.dtype=float64"]) == 0
    assert json.loads((zoo.tmp / "e" / "metrics.json").read_text())["n_test"] == 5


def test_resume_fine_tunes_an_imported_run(zoo):
    run = cli.import_checkpoint("toy_12.5", zoo.tmp / "run", str(zoo.data))
    r = _cli("-m", "srnn_bench", f"resume={run}", "trainer.epochs=1", "trainer.progress=false", "trainer.device=cpu",
             env={"SRNN_BENCH_DATA": str(zoo.data)})
    assert r.returncode == 0, r.stderr[-2000:]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["epochs"] == 1
    init = torch.load(run / "checkpoints" / "init.pt", weights_only=False)["model"]
    last = torch.load(run / "checkpoints" / "last.pt", weights_only=False)["model"]
    assert all(torch.equal(v, zoo.weights[PREFIX + k]) for k, v in init.items())  # started from the import
    assert any(not torch.equal(v, init[k]) for k, v in last.items())  # and trained


# -- verify / table ----------------------------------------------------------------------------------
def test_verify_prints_paper_authors_and_ours_and_writes_them(zoo, monkeypatch):
    lines = []
    # the toy imports in float32 (mnist1d_alif); the authors' numbers are float64: checked in float64
    rec = cli.verify("toy_12.5", zoo.tmp / "v", str(zoo.data), ["trainer.dtype=float64"], echo=lines.append)
    text = "\n".join(lines)
    assert rec["status"] == "verified" and "paper (Yin et al. 2021 Table 1, ecg_alif): 85.9%" in text
    assert "authors' code 50.0% | srnn_bench" in text
    saved = json.loads((zoo.tmp / "v" / "eval_float64" / "verify.json").read_text())
    assert saved["ours"]["test_acc"] == rec["ours"]["test_acc"] and saved["paper"] == 85.9
    assert json.loads((zoo.tmp / "v" / "eval_float64" / "metrics.json").read_text())["verify"]["status"] == "verified"
    tight = registry.Published(**{**zoo.entry.__dict__, "authors_code": (registry.Number(100.5, "impossible", "test_acc", 0.05),)})
    monkeypatch.setitem(registry.REGISTRY, "toy_12.5", tight)
    assert cli.verify("toy_12.5", zoo.tmp / "v2", str(zoo.data), ["trainer.dtype=float64"], echo=lambda s: None)["status"] == "differs"
    f32 = cli.verify("toy_12.5", zoo.tmp / "v2", str(zoo.data), echo=lambda s: None)
    assert f32["status"].startswith("measured in float32")  # not compared with float64 numbers
    # a subset is not compared with numbers of the whole test set
    sub = cli.verify("toy_12.5", zoo.tmp / "v3", str(zoo.data), ["dataset.limit_test=40"], echo=lambda s: None)
    assert sub["status"].startswith("measured on a subset (dataset.limit_test=40") and sub["n_test"] == 40


def test_verify_without_data_says_what_is_missing_and_where_to_get_it(tmp_path):
    lines = []
    rec = cli.verify("shd_90.7", None, str(tmp_path), echo=lines.append, download=False)
    assert rec["status"] == "not verified"
    assert any("missing:" in s and "checkpoint not found at" in s and "raw.githubusercontent.com" in s for s in lines)
    if not (SHARED / "yin2021").is_dir():
        pytest.skip(f"{SHARED} absent: the data-absent path with a present checkpoint needs the published files")
    if not registry.all_converters().get("gsc_0.91398"):
        pytest.skip("the GSC converter (srnn_bench.zoo.yin2021_gsc_timit) is not in this branch")
    lines = []
    rec = cli.verify("gsc_0.91398", tmp_path / "gsc", str(SHARED), echo=lines.append)
    assert rec["status"] == "not verified" and len(rec["missing"]) == 3  # test list, validation list, wav files
    assert all("download.tensorflow.org/data/speech_commands_v0.01.tar.gz" in m for m in rec["missing"])
    assert "(at least 60000 files)" in rec["missing"][2]
    assert json.loads((tmp_path / "gsc" / "eval" / "verify.json").read_text())["status"] == "not verified"


def test_table_reads_the_verify_records(zoo, tmp_path):
    results = tmp_path / "results_zoo"
    cli.verify("toy_12.5", tmp_path / "run", str(zoo.data), echo=lambda s: None, record_dir=results)
    copied = sorted(str(p.relative_to(results)) for p in results.rglob("*") if p.is_file())
    assert "toy_12.5/provenance.json" in copied and "toy_12.5/eval/test_confusion.csv" in copied
    assert not any(p.endswith(".pt") for p in copied)  # a record, never the checkpoint
    first = (results / "toy_12.5" / "eval" / "verify.json").read_text()
    # another precision than the import's own (float32 here) goes to eval_<dtype>/, beside eval/
    cli.verify("toy_12.5", tmp_path / "run", str(zoo.data), ["dataset.limit_test=40", "trainer.dtype=float64"],
               echo=lambda s: None, record_dir=results)
    assert json.loads((results / "toy_12.5" / "eval_float64" / "verify.json").read_text())["dtype"] == "float64"
    assert json.loads((results / "toy_12.5" / "eval" / "verify.json").read_text())["status"].startswith(
        "measured in float32 (the authors' numbers are float64")  # the toy imports in float32
    assert (results / "toy_12.5" / "eval" / "verify.json").read_text() == first
    text = cli.build_table(results, zoo.data)
    row = next(line for line in text.splitlines() if line.startswith("| `toy_12.5`"))
    rec = json.loads((results / "toy_12.5" / "eval" / "verify.json").read_text())
    assert f"{100 * rec['ours']['test_acc']:.2f} (acc) on {rec['n_test']}" in row and "| measured in float32" in row
    assert "| 85.9 |" in row  # the ecg_alif paper cell it was given
    smnist = next(line for line in text.splitlines() if line.startswith("| `smnist_98.21`"))
    assert "not run" in smnist and "97.87 (zero state)" in smnist and "| 98.7 |" in smnist
    assert "not reproducible" in next(line for line in text.splitlines() if line.startswith("| `psmnist_94.73`"))


# -- the real ECG file, through a throwaway converter (the real ones are srnn_bench.zoo.yin2021_*) ------
ECG_KEYS = {"tau_m_h": (36,), "tau_adp_h": (36,), "tau_m_o": (6,), "tau_adp_o": (6,), "i2h.weight": (36, 4),
            "i2h.bias": (36,), "h2h.weight": (36, 36), "h2h.bias": (36,), "h2o.weight": (6, 36), "h2o.bias": (6,)}


def _ecg_state(ckpt, model):
    s = ckpt.state
    return {"layers.0.cell.tau_m": s["tau_m_h"], "layers.0.cell.tau_adp": s["tau_adp_h"],
            "layers.0.w_in.weight": s["i2h.weight"], "layers.0.w_in.bias": s["i2h.bias"] + s["h2h.bias"],
            "layers.0.w_rec.weight": s["h2h.weight"], "readout.cell.tau_m": s["tau_m_o"],
            "readout.cell.tau_adp": s["tau_adp_o"], "readout.w_in.weight": s["h2o.weight"], "readout.w_in.bias": s["h2o.bias"]}


@pytest.fixture
def real_ecg(monkeypatch):
    e = registry.entry("ecg_0.8589")
    if not e.local_path(SHARED).is_file():
        pytest.skip(f"{e.local_path(SHARED)} absent (the shared data copy is not next to the repository)")
    conv = Converter("ecg_alif", 4, 6, lambda c: shapes_match(c, ECG_KEYS), _ecg_state)
    monkeypatch.setitem(sys.modules, FAKE, types.SimpleNamespace(CONVERTERS={"ecg_0.8589": conv}))
    fake = registry.Published(**{**e.__dict__, "converter": f"{FAKE}:CONVERTERS"})
    monkeypatch.setattr(registry, "ENTRIES", tuple(fake if x.name == e.name else x for x in registry.ENTRIES))
    monkeypatch.setitem(registry.REGISTRY, e.name, fake)
    return e


def test_import_the_real_ecg_checkpoint_by_name_and_as_a_file(real_ecg, tmp_path):
    from srnn_bench.zoo.safe_load import load_authors_checkpoint

    out = cli.import_checkpoint("ecg_0.8589", tmp_path / "ecg", str(SHARED), download=False)
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["sha256"] == real_ecg.sha256 and prov["published_file"] and prov["repo_path"] == real_ecg.repo_path
    assert prov["url"] == registry.RAW_BASE + "NMI_vis/ecg/model_0.8589141409979619_36bptt-fr_MG.pth"
    model = torch.load(out / "checkpoints" / "last.pt", weights_only=False)["model"]
    src = load_authors_checkpoint(real_ecg.local_path(SHARED)).state
    assert torch.equal(model["layers.0.cell.tau_adp"].float(), src["tau_adp_h"])  # taus as stored
    assert torch.equal(model["layers.0.w_in.bias"].float(), src["i2h.bias"] + src["h2h.bias"])  # two biases folded
    # the same file given by path is recognised by its parameter names and shapes
    again = cli.import_checkpoint(str(real_ecg.local_path(SHARED)), tmp_path / "ecg2", str(SHARED))
    assert json.loads((again / "provenance.json").read_text())["zoo_name"] == "ecg_0.8589"


def test_compare_checks_only_the_deterministic_numbers():
    ecg = registry.entry("ecg_0.8589")
    assert cli.compare(ecg, {"test_acc_class0": 0.8586, "test_acc_masked": 0.8520})[0] == "verified"
    assert cli.compare(ecg, {"test_acc_class0": 0.8586, "test_acc_masked": 0.8510})[0] == "differs"  # 0.12 points off
    assert cli.compare(ecg, {"test_acc_class0": 0.8586})[0] == "partly verified"
    assert cli.compare(registry.entry("shd_90.7"), {"test_acc": 0.5})[0] == "measured"  # file-name number only


def test_readme_quotes_the_generated_table():
    table = (ROOT / "results" / cli.TABLE_OUT).read_text()
    readme = ROOT / "README.md"
    assert cli.quote_in_readme(readme, table) == readme.read_text(), "run python -m srnn_bench.zoo table"
    assert table.count("\n| `") == len(registry.ENTRIES)


def test_the_energy_tool_reads_an_evaluated_import(zoo, capsys):
    from srnn_bench import energy
    from srnn_bench.evaluate import evaluate_run

    run = cli.import_checkpoint("toy_12.5", zoo.tmp / "run", str(zoo.data))
    m = evaluate_run(run, ["dataset.limit_test=20"])
    capsys.readouterr()
    assert energy.main(["--run-dir", str(run)]) == 0
    out = capsys.readouterr().out
    assert "per sample (40.0 steps)" in out and f"SOP {round(m['sop_per_sample']):,}" in out  # the measured rates


def test_importing_an_unsafe_file_is_one_line_exit_2(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'PWNED'}",))

    bad = tmp_path / "evil.pth"
    torch.save({"w": torch.zeros(1), "x": Evil()}, bad)
    r = _cli("-m", "srnn_bench.zoo", "import", str(bad), "--out", str(tmp_path / "run"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "refused" in r.stderr and "system" in r.stderr
    assert not (tmp_path / "PWNED").exists() and not (tmp_path / "run").exists()
