"""Settings: thresholds, windows and limits of every stage, read from one documented file.

The defaults are ``extractor/settings.toml`` (shipped with the package, each key commented).
``$INCIDENTS_SETTINGS`` may name a TOML file of the same shape whose values replace the defaults
key by key; an unknown section or key there is an error, so that a typo is never silently ignored.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import InputError

DEFAULTS = Path(__file__).resolve().parent / "settings.toml"


def _read(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as err:
        raise InputError(f"settings file {path}: {err.strerror or err}") from None
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"settings file {path}: not valid TOML ({err})") from None


@lru_cache(maxsize=None)
def all_settings() -> dict[str, dict[str, Any]]:
    """Every section, the defaults overridden by $INCIDENTS_SETTINGS when it is set."""
    merged = {section: dict(values) for section, values in _read(DEFAULTS).items()}
    override = os.environ.get("INCIDENTS_SETTINGS")
    if override:
        for section, values in _read(Path(override)).items():
            if section not in merged or not isinstance(values, dict):
                raise InputError(f"settings file {override}: unknown section [{section}]")
            for key, value in values.items():
                if key not in merged[section]:
                    raise InputError(f"settings file {override}: unknown key {key!r} in [{section}]")
                if type(value) is not type(merged[section][key]) and not (
                        isinstance(value, (int, float)) and isinstance(merged[section][key], float)):
                    raise InputError(f"settings file {override}: [{section}] {key} must be a "
                                     f"{type(merged[section][key]).__name__}")
                merged[section][key] = value
    return merged


def section(name: str) -> dict[str, Any]:
    return all_settings()[name]


def get(section_name: str, key: str) -> Any:
    return all_settings()[section_name][key]
