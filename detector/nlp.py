"""spaCy ``Chinese`` with the jieba segmenter, with the domain lexicon from ``rules/`` added to jieba so that
一般公共预算财政拨款支出 stays one token.

It is built once per process, lazily: only the referent spans of number-bearing clauses are segmented, which
is a small fraction of a document's text.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from detector.rules import Rules, load_rules


@lru_cache(maxsize=1)
def pipeline(rules_key: str | None = None):
    """The spaCy pipeline (blank Chinese, jieba segmenter) with the rules lexicon loaded."""
    import jieba
    from spacy.lang.zh import Chinese

    jieba.setLogLevel(logging.WARNING)
    rules = load_rules(rules_key)
    for word in lexicon_words(rules):
        jieba.add_word(word, freq=200000)
    return Chinese.from_config({"nlp": {"tokenizer": {"segmenter": "jieba"}}})


def lexicon_words(rules: Rules) -> list[str]:
    words = set(rules.lexicon)
    for concept in rules.concepts.values():
        words.add(concept.name)
        words.update(a for a in concept.aliases if "“" not in a and "”" not in a)
    return sorted(words)


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
