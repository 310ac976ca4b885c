"""`--workers N` keeps the input order and gives the same records as one worker."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "eval"))

import benchgen  # noqa: E402
from extractor.parallel import chunk_size, extract_parallel  # noqa: E402
from extractor.pipeline import Extractor  # noqa: E402


def _docs():
    breach = benchgen.generate(6, 11, "breach", min_words=60, max_words=160)
    ordinary = benchgen.generate(5, 11, "ordinary", min_words=60, max_words=160)
    docs = []
    for i in range(6):
        docs.append(breach[i])
        if i < 5:
            docs.append(ordinary[i])
    docs.insert(3, {"id": "empty", "text": "   "})  # an error record, in its place
    docs.insert(7, "Plain string document: a hospital said hackers stole patient records in a cyberattack.")
    return docs


@pytest.fixture(scope="module")
def one_worker():
    docs = _docs()
    return docs, list(Extractor(batch_size=4).extract_many(docs))


def test_two_workers_same_records_same_order(one_worker):
    docs, expected = one_worker
    got = list(extract_parallel(docs, workers=2, batch_size=4))
    assert [r.model_dump_json() for r in got] == [r.model_dump_json() for r in expected]
    ids = [d["id"] if isinstance(d, dict) else None for d in docs]
    assert [r.source.id for r in got][:3] == ids[:3]
    assert got[3].error and got[3].source.id == "empty"
    assert sum(r.is_incident for r in got) >= 3  # the breach articles really went through the pipeline
    # the private text the store keeps survives the trip between processes
    assert got[0]._text == docs[0]["text"]


def test_more_workers_than_chunks_and_generators(one_worker):
    docs, expected = one_worker
    got = list(extract_parallel(iter(docs[:5]), workers=3, batch_size=16))
    assert [r.model_dump_json() for r in got] == [r.model_dump_json() for r in expected[:5]]


def test_chunk_size():
    assert chunk_size(1000, 2, 16) == 16
    assert chunk_size(8, 2, 16) == 4  # every worker gets work
    assert chunk_size(3, 2, 16) == 2
    assert 4 <= chunk_size(100, 2, 16) <= 16
    assert chunk_size(None, 2, 16) == 16


def test_the_last_chunks_are_small_so_that_workers_end_together():
    from extractor.parallel import _chunks

    for n, workers in ((100, 2), (1000, 2), (40, 3), (8, 2), (1, 2)):
        size = chunk_size(n, workers, 16)
        chunks = list(_chunks(iter(range(n)), size, n, workers))
        assert [x for c in chunks for x in c] == list(range(n))  # every document once, in order
        tail = max(0, n - workers * size)
        done = 0
        for c in chunks:
            if done + len(c) < tail:
                assert len(c) == size
            elif done < tail:  # the one that reaches the last workers * size documents
                assert done + len(c) == tail and len(c) <= size
            else:  # the last workers * size documents: a quarter of a chunk at most
                assert len(c) <= -(-size // 4)
            done += len(c)
    assert [len(c) for c in _chunks(range(10), 4)] == [4, 4, 2]  # count unknown: plain chunks
