"""``python -m srnn_bench.energy``: the analytic cost of a configured model, see :mod:`srnn_bench.reporting.energy`."""

import sys

from .reporting.energy import main

if __name__ == "__main__":
    sys.exit(main())
