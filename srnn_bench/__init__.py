"""srnn_bench: spiking recurrent neural networks trained with BPTT and surrogate gradients."""

__version__ = "0.1.0"
