"""The one shape of a choice check: ``unknown KEY 'VALUE'; valid choices: A, B, ...`` (one line, naming the
key), used by every builder that refuses a value outside a fixed set of names."""

from __future__ import annotations

from collections.abc import Iterable


def check_choice(key: str, value, valid: Iterable) -> None:
    """Raise ``ValueError`` unless ``value`` is one of ``valid`` (listed in its order in the message)."""
    valid = tuple(valid)
    if value not in valid:
        raise ValueError(f"unknown {key} '{value}'; valid choices: {', '.join(map(str, valid))}")
