"""``python -m srnn_bench.zoo``: see :mod:`srnn_bench.zoo.cli`."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
