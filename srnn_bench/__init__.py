"""srnn_bench: spiking recurrent neural networks trained with BPTT and surrogate gradients."""

import os as _os

# MKL's conditional numerical reproducibility (strict mode): its GEMMs then sum in an order that does
# not depend on the thread count, so 1 and N torch threads train bitwise the same network on CPU
# (README, "Reliability"; tests/e2e/test_sharp_edges.py). Read by MKL at its first call: set it before any
# torch computation. An explicit MKL_CBWR in the environment is kept.
_os.environ.setdefault("MKL_CBWR", "AUTO,STRICT")

__version__ = "0.1.0"


def _register_resolvers() -> None:
    # ${run_uid:} and ${run_name:} (configs/hydra/default.yaml, configs/config.yaml) resolve wherever a
    # config of this package is used, with or without the command line
    from .utils.runs import register_resolvers

    register_resolvers()


_register_resolvers()
