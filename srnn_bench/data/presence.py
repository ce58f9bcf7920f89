"""Which datasets are present under a data directory (by file names and counts), and how to get them.

Used by ``scripts/list_datasets.py`` and ``make reproduce-*`` (which runs only cells whose data is
present). It neither opens nor verifies files: the loaders do that, and name any corrupt file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# name -> (where, [(glob relative to data_dir, minimum count, what)], how to get it)
CATALOG: dict[str, tuple[str, list[tuple[str, int, str]], str]] = {
    "shd": ("SHD/", [("SHD/shd_train.h5", 1, "train"), ("SHD/shd_test.h5", 1, "test")],
            "auto (tonic) or https://zenkelab.org/datasets/shd_{train,test}.h5.zip, unzipped"),
    "ssc": ("SSC/", [("SSC/ssc_train.h5", 1, "train"), ("SSC/ssc_valid.h5", 1, "valid"), ("SSC/ssc_test.h5", 1, "test")],
            "auto (tonic) or https://zenkelab.org/datasets/ssc_{train,valid,test}.h5.zip, unzipped"),
    "nmnist": ("NMNIST/", [("NMNIST/Train/*/*.bin", 60000, "train"), ("NMNIST/Test/*/*.bin", 10000, "test")],
               "auto (tonic) or https://www.garrickorchard.com/datasets/n-mnist Train.zip/Test.zip, unzipped"),
    "mnist / smnist / psmnist": ("MNIST/raw/", [("MNIST/raw/train-images-idx3-ubyte*", 1, "train images"),
                                                ("MNIST/raw/train-labels-idx1-ubyte*", 1, "train labels"),
                                                ("MNIST/raw/t10k-images-idx3-ubyte*", 1, "test images"),
                                                ("MNIST/raw/t10k-labels-idx1-ubyte*", 1, "test labels")],
                                 "auto (ossci-datasets.s3.amazonaws.com/mnist/), .gz or raw IDX"),
    "fmnist": ("FashionMNIST/raw/", [("FashionMNIST/raw/train-images-idx3-ubyte*", 1, "train images"),
                                     ("FashionMNIST/raw/train-labels-idx1-ubyte*", 1, "train labels"),
                                     ("FashionMNIST/raw/t10k-images-idx3-ubyte*", 1, "test images"),
                                     ("FashionMNIST/raw/t10k-labels-idx1-ubyte*", 1, "test labels")],
               "auto (fashion-mnist.s3-website.eu-central-1.amazonaws.com), .gz or raw IDX"),
    "soli": ("SoLi/", [("SoLi/file_half.json", 1, "split file"), ("SoLi/**/*_*_*.h5", 2750, "sequences")],
             "by hand: deep-soli dataset link (github.com/simonwsw/deep-soli) + config/file_half.json"),
    # part B datasets: expected layouts (their loaders define the details)
    "gsc": ("speech_commands_v0.01/", [("speech_commands_v0.01/testing_list.txt", 1, "test list"),
                                       ("speech_commands_v0.01/validation_list.txt", 1, "validation list"),
                                       ("speech_commands_v0.01/*/*.wav", 60000, "wav files")],
            "auto or download.tensorflow.org/data/speech_commands_v0.01.tar.gz, extracted"),
    "ecg": ("qtdb/", [("qtdb/*.hea", 105, "record headers"), ("qtdb/*.q1c", 30, "q1c annotations")],
            "auto (wfdb, PhysioNet qtdb)"),
    "ecg_yin2021": ("yin2021/data/", [("yin2021/data/QTDB_train.mat", 1, "train"), ("yin2021/data/QTDB_test.mat", 1, "test")],
                    "auto (sha256-checked) or https://github.com/byin-cwi/Efficient-spiking-networks data/QTDB_{train,test}.mat"),
    "timit": ("TIMIT/", [("TIMIT/**/*.[Ww][Aa][Vv]", 6300, "wav files"), ("TIMIT/**/*.[Pp][Hh][Nn]", 6300, "phone files")],
              "by hand (LDC licence: LDC93S1)"),
    "librispeech": ("LibriSpeech/", [("LibriSpeech/train-clean-100/*/*/*.flac", 28000, "train flac")],
                    "auto or openslr.org/resources/12/train-clean-100.tar.gz, plus frame alignments"),
}


def survey(data_dir: Path) -> list[dict]:
    rows = []
    for name, (where, checks, how) in CATALOG.items():
        found = []
        for pattern, minimum, what in checks:
            n = sum(1 for _ in data_dir.glob(pattern))
            found.append({"what": what, "pattern": pattern, "found": n, "expected_at_least": minimum})
        complete = sum(f["found"] >= f["expected_at_least"] for f in found)
        status = "present" if complete == len(found) else ("missing" if all(f["found"] == 0 for f in found) else "partial")
        rows.append({"dataset": name, "status": status, "path": str(data_dir / where), "files": found, "get": how})
    return rows


@dataclass(frozen=True)
class Status:
    present: bool
    message: str


def catalog_entry(dataset: str) -> str:
    """The CATALOG key covering a dataset config name (``smnist`` -> ``mnist / smnist / psmnist``)."""
    for key in CATALOG:
        if dataset in [k.strip() for k in key.split("/")]:
            return key
    raise KeyError(f"no presence check for dataset '{dataset}'; known: {', '.join(CATALOG)}")


def dataset_status(dataset: str, data_dir: str | Path) -> Status:
    """Present or not, with the one-line message telling what is missing and where to get it."""
    row = next(r for r in survey(Path(data_dir)) if r["dataset"] == catalog_entry(dataset))
    if row["status"] == "present":
        return Status(True, f"{dataset}: present at {row['path']}")
    missing = ", ".join(f"{f['what']} ({f['pattern']}: {f['found']}/{f['expected_at_least']})" for f in row["files"] if f["found"] < f["expected_at_least"])
    return Status(False, f"{dataset} {row['status']} under {row['path']}: missing {missing}; get it: {row['get']}")
