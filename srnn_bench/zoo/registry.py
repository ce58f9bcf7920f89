"""The published trained networks of Yin, Corradi & Bohte 2021: one :class:`Published` entry each.

Each entry holds what is known about one checkpoint file once: where it sits in the authors' repository
(byin-cwi/Efficient-spiking-networks, branch ``main``), its sha256, the Table 1 cell whose number it stands
for (the number itself is read from ``results/paper_values/yin2021_table1.yaml``, stored once), the numbers
the authors' own code gives (each labelled by what it is), the converter that maps it onto an srnn_bench
model, and the data an evaluation needs.

Finding a file: ``<data_dir>/yin2021/<repo path>`` (the authors' layout; ``paths.data_dir`` or
``$SRNN_BENCH_DATA``), else a download of :func:`raw_url` checked against the sha256, else one line saying
what is missing, where to put it and where to get it (:class:`ZooError`).
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path

REPOSITORY = "https://github.com/byin-cwi/Efficient-spiking-networks"
RAW_BASE = "https://raw.githubusercontent.com/byin-cwi/Efficient-spiking-networks/main/"
LAYOUT_DIR = "yin2021"
"""Checkpoints live at ``<data_dir>/yin2021/<path in the authors' repository>``."""
PAPER_VALUES = "yin2021_table1.yaml"
"""Under ``results/paper_values/``: Table 1 of Yin et al. 2021, the paper's numbers (stored once)."""
GOLDEN = "shared/reference/yin2021_checkpoints/README.md"
"""Where the authors'-code numbers below were measured (the authors' code run on each checkpoint)."""
RNN = "srnn_bench.zoo.yin2021_rnn:CONVERTERS"
GSC_TIMIT = "srnn_bench.zoo.yin2021_gsc_timit:CONVERTERS"


class ZooError(ValueError):
    """A checkpoint cannot be found, fetched or recognised; the one-line message says what to do."""


@dataclass(frozen=True)
class Number:
    """An accuracy (%) of a checkpoint: ``what`` says who measured it how; ``metric`` is the key of our
    ``eval/metrics.json`` that measures the same thing; ``tolerance`` (points) is set only for numbers
    measured deterministically (zero initial state, float64), which ``zoo verify`` checks."""

    value: float
    what: str
    metric: str = "test_acc"
    tolerance: float | None = None


@dataclass(frozen=True)
class DataNeed:
    """Files an evaluation needs: at least ``minimum`` matches of ``pattern`` (glob under the data directory);
    what they are, and where to get them."""

    pattern: str
    what: str
    get: str
    minimum: int = 1

    def present(self, data_dir: str | Path) -> bool:
        return any(n + 1 >= self.minimum for n, _ in enumerate(Path(data_dir).glob(self.pattern)))


@dataclass(frozen=True)
class Published:
    name: str
    """The zoo name = the golden set's name (``shared/reference/yin2021_checkpoints/<name>.npz``)."""
    task: str
    architecture: str
    repo_path: str
    sha256: str
    paper_cell: str
    """Key under ``cells`` of :data:`PAPER_VALUES`."""
    converter: str
    """``module:CONVERTERS`` holding this entry's converter under :attr:`name`."""
    authors_code: tuple[Number, ...] = ()
    data: tuple[DataNeed, ...] = ()
    not_reproducible: str | None = None
    """Why the accuracy cannot be measured even with the data (then ``zoo verify`` does not evaluate)."""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def url(self) -> str:
        return raw_url(self.repo_path)

    def local_path(self, data_dir: str | Path) -> Path:
        return Path(data_dir) / LAYOUT_DIR / self.repo_path

    @property
    def paper(self) -> dict:
        """``{"accuracy", "task", "network", "source", ...}`` of this entry's Table 1 cell."""
        values = paper_values()
        return {**values["cells"][self.paper_cell], "source": values["source"], "cell": self.paper_cell}


def raw_url(repo_path: str) -> str:
    """The raw GitHub URL of a file of the authors' repository: ``|``, space, ``[`` and ``]`` percent-encoded
    (shared/data/README.md); every other character as it is."""
    quoted = repo_path.replace("%", "%25")
    for ch, code in (("|", "%7C"), (" ", "%20"), ("[", "%5B"), ("]", "%5D")):
        quoted = quoted.replace(ch, code)
    return RAW_BASE + quoted


def _mnist_test() -> tuple[DataNeed, ...]:
    get = "the official MNIST test set (ossci-datasets.s3.amazonaws.com/mnist/, or yann.lecun.com/exdb/mnist/)"
    return (
        DataNeed("MNIST/raw/t10k-images-idx3-ubyte*", "MNIST test images (t10k-images-idx3-ubyte[.gz])", get),
        DataNeed("MNIST/raw/t10k-labels-idx1-ubyte*", "MNIST test labels (t10k-labels-idx1-ubyte[.gz])", get),
    )


def _qtdb() -> tuple[DataNeed, ...]:
    return tuple(
        DataNeed(f"{LAYOUT_DIR}/data/QTDB_{s}.mat", f"the authors' encoded QTDB {s} set (QTDB_{s}.mat)", raw_url(f"data/QTDB_{s}.mat"))
        for s in ("train", "test")
    )


def _catalog(dataset: str) -> tuple[DataNeed, ...]:
    """The data-presence catalog's files of a dataset (:mod:`srnn_bench.data.presence`: one list for
    ``make reproduce-*``, ``scripts/list_datasets.py`` and the zoo)."""
    from ..data.presence import CATALOG, catalog_entry

    _where, checks, how = CATALOG[catalog_entry(dataset)]
    return tuple(DataNeed(pattern, f"{dataset} {what}", how, minimum) for pattern, minimum, what in checks)


_NAME = "in the file name: the test accuracy the authors' training script logged (random initial state)"

ENTRIES: tuple[Published, ...] = (
    Published(
        "ecg_0.8589", "ECG (QTDB), per-step wave labels", "4 -> 36 rec ALIF (non-adaptive) -> 6 spiking ALIF, per-step",
        "NMI_vis/ecg/model_0.8589141409979619_36bptt-fr_MG.pth",
        "b59bf9ec92abd8854819ed60e58b568f3e255a123bfe870bd56ce6eaeed57e5c", "ecg_alif", RNN,
        authors_code=(
            Number(85.85, "authors' code, full QTDB test set, steps >= 10, unlabelled steps counted as class 0 "
                   "(their counting), b_j0 = 0.1, zero initial state, float64", "test_acc_class0", 0.05),
            Number(85.22, "authors' code, the same with unlabelled steps masked out", "test_acc_masked", 0.05),
            Number(85.89, _NAME, "test_acc_class0"),
        ),
        data=_qtdb(),
        notes=("b_j0 = 0.1 (the published script says 0.01: 30% accuracy)",),
    ),
    Published(
        "shd_90.7", "SHD (20 classes)", "700 -> 128 rec ALIF -> 128 rec ALIF -> 20 integrator, sum of softmax t > 10",
        "SHD/model_90.7-readout-2layer-v2-4ms.pth",
        "2b69992f7a64b86440a5b679103ca6e84c305813ece50fd28858114347818b37", "shd_alif", RNN,
        authors_code=(Number(90.72, _NAME + " ('Accuracy: 90.7243816254417')"),),
        data=_catalog("shd"),
    ),
    Published(
        "shd_87.41", "SHD (20 classes)", "700 -> 128 rec ALIF -> 128 rec ALIF -> 20 integrator, sum of softmax t > 10",
        "NMI_vis/SHD/model_87.41166077738517-readout-2layer-v1-12Feb[128,128].pth",
        "fc35a518d3234bf72c56020ff3cdd4d174916b490b3da2edf67ad2c92e208fc0", "shd_alif", RNN,
        authors_code=(
            Number(87.46, "authors' notebook NMI_vis/SHD/vis.ipynb on the SHD test set (random initial state)"),
            Number(87.41, _NAME),
        ),
        data=_catalog("shd"),
    ),
    Published(
        "ssc_74.19", "SSC (35 classes)", "700 -> 400 rec ALIF -> 400 rec ALIF -> 35 integrator, mean membrane t > 0",
        "NMI_vis/SSC/model_74.18800902757334-v3-[400, 400]-2layer_MG.pth",
        "f6ac94b808e2b20d8c83f8b63ae95254f128e916c9805c4d70ff989b84b69dab", "ssc_alif", RNN,
        authors_code=(
            Number(74.05, "authors' notebook NMI_vis/SSC/vis.ipynb on the SSC test set (random initial state)"),
            Number(74.19, _NAME),
        ),
        data=_catalog("ssc"),
    ),
    Published(
        "gsc_0.91398", "GSC v1 (12 classes)", "120 (ternary) -> 300 dense ALIF -> 300 rec ALIF -> 12 integrator",
        "GSC/0.91398-gscv1-_class.pth",
        "ca706b92f54ce0cdf552132fd0cc97ade2b320134d038a75599bfb12b1156f6a", "gsc_alif", GSC_TIMIT,
        authors_code=(Number(91.398, "in the file name: the test accuracy the authors' training script logged (its "
                             "initial state is already deterministic; input normalised per batch)"),),
        data=_catalog("gsc"),
        notes=("dense_1 neuron 172 is NaN throughout (silent)", "width 300 (the script says 256)"),
    ),
    Published(
        "timit_0.66292", "TIMIT (61 phones, per frame)", "39 -> 512 fw rec ALIF || 512 bw rec ALIF -> 61 integrator",
        "TIMIT/0.66292-bi-srnn-v3_MN-v1.pth",
        "4fca941a3290b4b73380f85a58654ed187469d08640cdf3bfa6bd9afe4a760e4", "timit_bialif", GSC_TIMIT,
        authors_code=(Number(66.292, _NAME),),
        data=_catalog("timit"),
        notes=("rnn_fw1.tau_adp[363] < 0: runs as stored",),
    ),
    Published(
        "smnist_98.21", "S-MNIST (8-pixel window)", "8 -> 64 rec -> 256 rec -> 256 dense ALIF -> 10 spiking ALIF, spike count",
        "NMI_vis/smnist/model_98.21_Task-smnist||Time-30-06-2020 16:33:05||EC_f--rbf||DC_f--adp-spike||multiinput-multi_input.pth",
        "340dcfa4ad4424663072762405a52a7a5984d4c52853dd268a964089f71c7568", "smnist_alif", RNN,
        authors_code=(
            Number(97.87, "authors' code, full MNIST test set, zero initial state, float64, first-index tie-break", "test_acc", 0.05),
            Number(98.11, "authors' notebook smnist_vis.ipynb (random initial state)"),
            Number(98.21, _NAME),
        ),
        data=_mnist_test(),
    ),
    Published(
        "psmnist_94.73", "PS-MNIST (4-pixel window)", "4 -> 64 rec -> 256 rec -> 256 dense ALIF -> 10 spiking ALIF, spike count t > 0",
        "NMI_vis/smnist/model_94.73_Task-psmnist||Time-07-12-2022 14:26:15||EC_f--rbf||DC_f--adp-spike||multiinput-multi_input.pth",
        "2cfa89a3a522ea0fac5694a8cc6fb0aa6051a1ecaa2ffb6d1b01c5664053686c", "psmnist_alif", RNN,
        authors_code=(
            Number(94.54, "authors' notebook psmnist_vis.ipynb (analog input, their permuted test set)"),
            Number(94.73, _NAME),
        ),
        data=_mnist_test(),
        not_reproducible="the pixel permutation (ps_data/ps_X_test.npy) is not published; no seeded guess matches it",
    ),
)
REGISTRY: dict[str, Published] = {e.name: e for e in ENTRIES}


def entry(name: str) -> Published:
    if name not in REGISTRY:
        raise ZooError(f"unknown published model '{name}'; valid choices: {', '.join(REGISTRY)}")
    return REGISTRY[name]


def paper_values() -> dict:
    import yaml

    from ..reporting.paper_tables import RESULTS

    return yaml.safe_load((RESULTS / "paper_values" / PAPER_VALUES).read_text())


def default_data_dir() -> str:
    """``$SRNN_BENCH_DATA``, else ``data`` (the default of ``paths.data_dir``)."""
    return os.environ.get("SRNN_BENCH_DATA", "data")


# -- converters --------------------------------------------------------------------------------
def converters_of(dotted: str) -> dict:
    """The ``CONVERTERS`` dict named by ``module:attribute``; a module that does not exist yet gives a
    :class:`ZooError` naming it."""
    module, _, attr = dotted.partition(":")
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name and module.startswith(e.name):
            raise ZooError(f"converter module {module} is not installed in this srnn_bench") from None
        raise
    return getattr(mod, attr)


def converter(name: str):
    """The :class:`~srnn_bench.zoo.convert.Converter` of a registry entry."""
    conv = converters_of(entry(name).converter).get(name)
    if conv is None:
        raise ZooError(f"{entry(name).converter} has no converter for '{name}'")
    return conv


def all_converters() -> dict:
    """``zoo name -> Converter`` over every converter module the registry names (missing modules skipped)."""
    out = {}
    for dotted in dict.fromkeys(e.converter for e in ENTRIES):
        try:
            out.update(converters_of(dotted))
        except ZooError:
            continue
    return out


# -- files ---------------------------------------------------------------------------------------
def sha256_of(path: str | Path) -> str:
    from ..data.cache import sha256_file  # the project's one file-digest helper

    return sha256_file(path)


def check_sha256(path: Path, expected: str) -> None:
    got = sha256_of(path)
    if got != expected:
        raise ZooError(f"{path}: sha256 {got} does not match the published file's {expected}; delete it and fetch it again")


def locate(name: str, data_dir: str | Path | None = None, download: bool = True) -> Path:
    """The checked local file of entry ``name``: under ``<data_dir>/yin2021/`` if there, else downloaded
    there (sha256-checked) when ``download``, else a :class:`ZooError` saying where to put it."""
    e = entry(name)
    path = e.local_path(data_dir if data_dir is not None else default_data_dir())
    if path.is_file():
        check_sha256(path, e.sha256)
        return path
    where = f"{name}: checkpoint not found at {path}; put the file there (get it from {e.url}, sha256 {e.sha256})"
    if not download:
        raise ZooError(where)
    try:
        return fetch(e.url, path, e.sha256)
    except ZooError as err:
        raise ZooError(f"{where}; automatic download failed: {err}") from None


def fetch(url: str, path: Path, sha256: str, timeout: float = 60.0) -> Path:
    """Download ``url`` to ``path`` with the project's checked downloader (:func:`srnn_bench.data.cache.download`:
    atomic, the sha256 checked before the file gets its name); its one-line error as a :class:`ZooError`."""
    from ..data.base import DataError
    from ..data.cache import download

    try:
        return download(url, path, sha256=sha256, what=Path(path).name, timeout=timeout)
    except DataError as e:
        raise ZooError(str(e)) from None


def by_sha256(digest: str) -> Published | None:
    return next((e for e in ENTRIES if e.sha256 == digest), None)
