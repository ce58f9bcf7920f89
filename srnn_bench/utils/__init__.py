"""Shared utilities: atomic I/O and provenance (:mod:`.io`), run directories and their outcome (:mod:`.runs`)."""

from .runs import RunRecord, iter_run_dirs, read_run, summarize_runs

__all__ = ["RunRecord", "iter_run_dirs", "read_run", "summarize_runs"]
