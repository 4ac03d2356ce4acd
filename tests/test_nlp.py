"""The jieba dictionary cache: what it loads is what jieba's own loading and the lexicon would build.

Each run is a fresh interpreter, since jieba's dictionary is process-wide state."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PHRASES = ["年初预算为一般公共预算财政拨款支出", "本年收入合计1234.56万元，比上年增加", "机关运行经费支出主要用于办公费"]

PROBE = f"""
import json, jieba
from detector import nlp
nlp.pipeline(None)
print(json.dumps({{"tokens": [nlp.tokens(p) for p in {PHRASES!r}], "total": jieba.dt.total,
                  "entries": len(jieba.dt.FREQ), "loaded": jieba.dt.initialized}}, ensure_ascii=False))
"""


def _probe(cache: Path) -> dict:
    env = {**os.environ, "GOUJI_CACHE_DIR": str(cache)}
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_cached_dictionary_segments_as_jieba_does(tmp_path: Path) -> None:
    built = _probe(tmp_path)  # no cache yet: jieba's own loading plus add_word, then written
    files = list(tmp_path.glob("jieba-*.pickle"))
    assert len(files) == 1 and not list(tmp_path.glob("*.tmp"))
    cached = _probe(tmp_path)  # read back
    assert cached == built
    assert built["loaded"] and built["entries"] > 300_000
    assert "一般公共预算财政拨款支出" in built["tokens"][0]


def test_broken_cache_falls_back_to_jieba(tmp_path: Path) -> None:
    built = _probe(tmp_path)
    (cache,) = tmp_path.glob("jieba-*.pickle")
    cache.write_bytes(cache.read_bytes()[:1000])  # cut off mid-write by a crash, say
    assert _probe(tmp_path) == built
    assert cache.stat().st_size > 1000  # rewritten whole
