"""spaCy ``Chinese`` with the jieba segmenter, with the domain lexicon from ``rules/`` added to jieba so that
一般公共预算财政拨款支出 stays one token.

It is built once per process, lazily: only the referent spans of number-bearing clauses are segmented, which
is a small fraction of a document's text.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from functools import lru_cache
from pathlib import Path

from detector.rules import Rules, load_rules

LEXICON_FREQ = 200000  # high enough that jieba never splits a lexicon word


@lru_cache(maxsize=1)
def pipeline(rules_key: str | None = None):
    """The spaCy pipeline (blank Chinese, jieba segmenter) with the rules lexicon loaded."""
    import jieba
    from spacy.lang.zh import Chinese

    jieba.setLogLevel(logging.WARNING)
    load_dictionary(lexicon_words(load_rules(rules_key)))
    return Chinese.from_config({"nlp": {"tokenizer": {"segmenter": "jieba"}}})


def lexicon_words(rules: Rules) -> list[str]:
    words = set(rules.lexicon)
    for concept in rules.concepts.values():
        words.add(concept.name)
        words.update(a for a in concept.aliases if "“" not in a and "”" not in a)
    return sorted(words)


def load_dictionary(words: list[str]) -> None:
    """jieba's prefix dictionary with ``words`` added, taken from gouji's cache when it holds this exact state.

    Why a cache of our own: jieba keeps its dictionary as a marshal file, and unmarshalling its ~500k entries
    takes ~0.45 s, while the same dictionary pickled loads in ~0.13 s. Every ``gouji check`` and every scan's
    workers start by loading it, so this is a third of their start-up. The cache holds exactly what jieba's own
    loading and ``add_word`` would build (its ``FREQ`` and ``total``), keyed by jieba's version, its dictionary
    file and the lexicon; anything unreadable falls back to jieba's own path."""
    import jieba

    path = _cache_path(words)
    state = _read_cache(path)
    if state is not None:
        jieba.dt.FREQ, jieba.dt.total = state
        jieba.dt.initialized = True
        return
    for word in words:
        jieba.add_word(word, freq=LEXICON_FREQ)
    _write_cache(path, (jieba.dt.FREQ, jieba.dt.total))


def _cache_path(words: list[str]) -> Path:
    import jieba

    dictionary = Path(jieba.dt.dictionary or Path(jieba.__file__).with_name(jieba.DEFAULT_DICT_NAME))
    stat = dictionary.stat()
    key = hashlib.sha256(
        "\n".join([jieba.__version__, str(dictionary), str(stat.st_size), str(stat.st_mtime_ns),
                   str(LEXICON_FREQ), *words]).encode()
    ).hexdigest()[:24]
    return cache_dir() / f"jieba-{key}.pickle"


def cache_dir() -> Path:
    """Where gouji keeps what it can rebuild: ``$GOUJI_CACHE_DIR``, else ``$XDG_CACHE_HOME/gouji``, else
    ``~/.cache/gouji``."""
    if os.environ.get("GOUJI_CACHE_DIR"):
        return Path(os.environ["GOUJI_CACHE_DIR"])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "gouji"
    try:
        return Path.home() / ".cache" / "gouji"
    except RuntimeError:  # no home directory (a bare service account): the temporary folder will do
        return Path(tempfile.gettempdir()) / "gouji"


def _read_cache(path: Path) -> tuple[dict[str, int], int] | None:
    try:
        with path.open("rb") as f:
            freq, total = pickle.load(f)
    except Exception:  # noqa: BLE001 — a damaged pickle raises almost anything; the cache is then rebuilt
        return None
    return (freq, total) if isinstance(freq, dict) and isinstance(total, int) else None


def _write_cache(path: Path, state: tuple[dict[str, int], int]) -> None:
    """Written whole or not at all (a temporary file renamed into place), so a reader never sees half of it;
    a cache that cannot be written (read-only home) only costs the next start its speed."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump(state, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError:
        logging.getLogger(__name__).debug("jieba dictionary cache not written to %s", path, exc_info=True)


@lru_cache(maxsize=1 << 14)
def tokens(text: str, rules_key: str | None = None) -> tuple[str, ...]:
    """jieba tokens of ``text`` through the spaCy tokenizer: its jieba segmenter and its whitespace handling
    (``util.get_words_and_spaces``), the token texts a ``Doc`` would hold, without building the ``Doc``.

    Cached: the referents of a genre recur across its documents, and jieba costs ~0.1 ms per phrase."""
    from spacy import util
    from spacy.lang.zh import Segmenter

    tokenizer = pipeline(rules_key).tokenizer
    if tokenizer.segmenter != Segmenter.jieba:
        return tuple(t.text for t in tokenizer(text))
    words = [w for w in tokenizer.jieba_seg.cut(text, cut_all=False) if w]
    return tuple(util.get_words_and_spaces(words, text)[0])
