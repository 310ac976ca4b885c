"""Shared fixtures."""

import pytest


@pytest.fixture(scope="module")
def extractor():
    """One extractor per test module (each spaCy pipeline loads once, lazily)."""
    from extractor.pipeline import Extractor

    return Extractor()
