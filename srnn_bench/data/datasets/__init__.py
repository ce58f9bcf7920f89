"""Dataset readers, one module per ``dataset=`` config: ``configs/dataset/<name>.yaml`` is read by
``srnn_bench/data/datasets/<name>.py``, whose ``build(cfg, data_dir) -> DataSplits`` makes the splits.

Two readers serve a family of configs; their module names say which:

- ``shd_ssc.py``: ``shd`` and ``ssc`` (the Heidelberg spiking datasets: one HDF5 format, one binning);
- ``mnist.py``: ``mnist``, ``fmnist``, ``smnist`` and ``psmnist`` (the IDX files of MNIST / Fashion-MNIST,
  as images or pixel sequences; ``mnist1d`` is a different dataset with its own module).

What several readers share stays one level up, in ``srnn_bench/data/``:
``base`` (splits, collate, errors), ``cache`` (preprocessing cache, downloads, checksums), ``sparse``
(sparse spike and array datasets, validation split), ``audio`` (waveform reading and features),
``presence`` (which datasets a data directory holds) and ``fixtures`` (small synthetic files in each
dataset's real format, for the tests). :data:`DATASETS` maps every config name to its reader;
``tests/e2e/test_data_listing.py`` checks that it covers ``configs/dataset/`` and follows these names.
"""

from __future__ import annotations

DATASETS = {
    "ecg": "srnn_bench.data.datasets.ecg",
    "fmnist": "srnn_bench.data.datasets.mnist",
    "gsc": "srnn_bench.data.datasets.gsc",
    "librispeech": "srnn_bench.data.datasets.librispeech",
    "mnist": "srnn_bench.data.datasets.mnist",
    "mnist1d": "srnn_bench.data.datasets.mnist1d",
    "nmnist": "srnn_bench.data.datasets.nmnist",
    "npz": "srnn_bench.data.datasets.npz",
    "psmnist": "srnn_bench.data.datasets.mnist",
    "shd": "srnn_bench.data.datasets.shd_ssc",
    "smnist": "srnn_bench.data.datasets.mnist",
    "soli": "srnn_bench.data.datasets.soli",
    "ssc": "srnn_bench.data.datasets.shd_ssc",
    "timit": "srnn_bench.data.datasets.timit",
}
"""config name -> module with ``build(cfg, data_dir) -> DataSplits`` (imported lazily: heavy deps stay optional)."""
