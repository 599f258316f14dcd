"""Raw tokens → the model's TF-IDF rows, a whole batch at once, for serving.

Training spells every feature as a string (`tokenize.features`) and looks each one up in
the vocabulary (`model.Features.transform`); most of those strings — word pairs, subwords,
the opening's character n-grams — are not in the vocabulary and are built only to be thrown
away. Serving does the same arithmetic on integers:
- each distinct token gets a number once (memoised), with what it adds as a content word
  (its own feature id and its subwords' ids; nothing for a stop word, place, punctuation);
- a word pair is a pair of token numbers, looked up among the vocabulary's pairs by a
  sorted search over the whole batch;
- the opening's characters are code points, and its n-grams integer keys, likewise;
- counting, tf-idf and the l2 norm are NumPy over the batch.
The numbers equal `Features.transform(features(tokens))` (tests/classifiers check it), and
the result is a `Rows` record, so serving needs no SciPy (importing scipy.sparse alone took
a fifth of the model's load time).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from itertools import chain

import numpy as np

from . import tokenize

_MEMO_LIMIT = 500_000  # distinct tokens remembered, to bound memory in a long-running process
_CP_BITS = 21  # a Unicode code point fits in 21 bits: an n-gram of up to 3 is one int64 key


@dataclass(frozen=True)
class Rows:
    """A batch of sparse rows in CSR layout: row r holds data[indptr[r]:indptr[r + 1]] at
    columns indices[…], columns sorted within each row."""

    data: np.ndarray  # float32
    indices: np.ndarray  # int32
    indptr: np.ndarray  # int64, n_rows + 1
    shape: tuple[int, int]

    def dot(self, weights_t: np.ndarray) -> np.ndarray:
        """self @ weights_t for a dense (n_features, k) matrix: (n_rows, k).

        One gather for the batch (np.take: five times faster than W[indices]), then a
        vector-matrix product per row: three times faster than summing the batch's products
        with np.add.reduceat (slow along an axis of short segments)."""
        return self.row_sums(np.take(weights_t, self.indices, axis=0))

    def row_sums(self, gathered: np.ndarray) -> np.ndarray:
        """Per row, its values times the weights gathered for its entries ((nnz, k), in entry
        order): self @ W when gathered = W[self.indices]."""
        out = np.zeros((self.shape[0], gathered.shape[1]), dtype=gathered.dtype)
        ptr = self.indptr.tolist()
        data = self.data
        for row, (a, b) in enumerate(zip(ptr, ptr[1:], strict=False)):
            if b > a:
                out[row] = data[a:b] @ gathered[a:b]
        return out

    def toarray(self) -> np.ndarray:
        dense = np.zeros(self.shape, dtype=self.data.dtype)
        rows = np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))
        dense[rows, self.indices] = self.data
        return dense


def gram_key(gram: str) -> int:
    """An n-gram of up to 3 characters as one integer (distinct across lengths: no code
    point is 0)."""
    key = 0
    for ch in gram:
        key = (key << _CP_BITS) | ord(ch)
    return key


class _Tokens(dict):
    """token -> its number; each new token's content-word features are recorded alongside."""

    def __init__(self, encoder: Encoder) -> None:
        super().__init__()
        self.encoder = encoder

    def __missing__(self, token: str) -> int:
        number = self.encoder._add_token(token)
        self[token] = number
        return number


class Encoder:
    """The TF-IDF rows a fitted vocabulary gives raw token lists, featurised as in training
    (`tokenize.features(tokens, subwords, opening, opening_grams, foreign)`)."""

    def __init__(self, vocab: dict[str, int], idf: np.ndarray, subwords: bool, opening: int,
                 opening_grams: tuple[int, ...] = (2,), foreign: int = 0) -> None:
        self.vocab = vocab
        self.idf = idf.astype(np.float32)
        self.n_features = len(idf)
        self.subwords = subwords
        self.opening = opening
        self.opening_grams = tuple(opening_grams)
        self.foreign = foreign  # FOREIGN_MARK's count per word naming a place abroad
        self._pairs: tuple[np.ndarray, np.ndarray] | None = None
        self._grams: tuple[np.ndarray, np.ndarray] | None = None
        self._lock = threading.Lock()
        self._reset_tokens()

    # -- the token memo ----------------------------------------------------------
    def _reset_tokens(self) -> None:
        self.tokens = _Tokens(self)
        self._is_word = _Growing(bool)  # by token number
        self._feat_ptr = _Growing(np.int64)  # token n's feature ids: feat_ids[ptr[n]:ptr[n+1]]
        self._feat_ptr.extend([0])
        self._feat_ids = _Growing(np.int64)
        # tokens numbered since the arrays were last brought up to date
        self._new_word: list[bool] = []
        self._new_ptr: list[int] = []
        self._new_ids: list[int] = []
        self._numbered = 0
        self._recorded_ids = 0
        self._pairs = None  # pair keys are token numbers: renumbered with the memo

    def _add_token(self, token: str) -> int:
        number = self._numbered
        self._numbered += 1
        content = tokenize.is_content_word(token)
        self._new_word.append(content)
        if content:
            get = self.vocab.get
            found = [get(token)]
            if self.subwords and len(token) >= 3:
                found += [get("#" + token[i : i + 2]) for i in range(len(token) - 1)]
            if self.foreign and token in tokenize.foreign_words():
                found += [get(tokenize.FOREIGN_MARK)] * self.foreign
            ids = [i for i in found if i is not None]
            self._new_ids += ids
            self._recorded_ids += len(ids)
        self._new_ptr.append(self._recorded_ids)
        return number

    def _token_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per token number: is it a content word, and where its feature ids are. Only the
        tokens numbered since the last call are appended (a long-running process meets new
        tokens in most batches; rebuilding the arrays each time cost more than encoding)."""
        if self._new_word:
            self._is_word.extend(self._new_word)
            self._feat_ptr.extend(self._new_ptr)
            self._feat_ids.extend(self._new_ids)
            self._new_word, self._new_ptr, self._new_ids = [], [], []
        return self._is_word.values, self._feat_ptr.values, self._feat_ids.values

    # -- the vocabulary's pairs and n-grams as sorted integer keys ---------------------
    def _pair_keys(self) -> tuple[np.ndarray, np.ndarray]:
        """Sorted keys (number of a << 32 | number of b) of the vocabulary's word pairs.
        A term "x_y_z" (a token may hold "_") is registered under each of its splits: a
        pair matches one exactly when a + "_" + b is the term."""
        if self._pairs is None:
            keys, ids = [], []
            for term, i in self.vocab.items():
                if "_" not in term or term[:1] in "#%":
                    continue
                for cut in (j for j, ch in enumerate(term) if ch == "_"):
                    a, b = term[:cut], term[cut + 1 :]
                    if a and b:
                        keys.append((self.tokens[a] << 32) | self.tokens[b])
                        ids.append(i)
            self._pairs = _sorted_table(keys, ids)
        return self._pairs

    def _gram_keys(self) -> tuple[np.ndarray, np.ndarray]:
        if self._grams is None:
            table = {gram_key(t[1:]): i for t, i in self.vocab.items()
                     if t[:1] == "%" and 1 <= len(t) - 1 <= 3}
            self._grams = _sorted_table(list(table), list(table.values()))
        return self._grams

    # -- the batch ---------------------------------------------------------------
    def encode(self, docs: list[list[str]]) -> Rows:
        """TF-IDF rows (sublinear tf, idf, l2) of a batch of raw token lists. One batch at a
        time: workers tag in threads, and a token's number and its features are recorded
        in two steps that must not interleave with another batch's."""
        with self._lock:
            return self._encode(docs)

    def _encode(self, docs: list[list[str]]) -> Rows:
        if len(self.tokens) > _MEMO_LIMIT:
            self._reset_tokens()
        pair_keys, pair_ids = self._pair_keys()  # first: it numbers the pairs' words
        tok = np.array(list(map(self.tokens.__getitem__, chain.from_iterable(docs))),
                       dtype=np.int64)
        is_word, feat_ptr, feat_ids = self._token_arrays()
        n = len(docs)
        doc = np.repeat(np.arange(n, dtype=np.int64), list(map(len, docs)))
        words, word_doc = tok[is_word[tok]], doc[is_word[tok]]
        parts_ids, parts_doc = [], []
        # the words' own and subword features
        starts, lengths = feat_ptr[words], feat_ptr[words + 1] - feat_ptr[words]
        offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        parts_ids.append(feat_ids[np.repeat(starts, lengths) + offsets])
        parts_doc.append(np.repeat(word_doc, lengths))
        # adjacent word pairs within a text
        same = word_doc[1:] == word_doc[:-1]
        found, pair_doc = _lookup(
            (words[:-1][same] << 32) | words[1:][same], pair_keys, pair_ids, word_doc[1:][same])
        parts_ids.append(found)
        parts_doc.append(pair_doc)
        if self.opening:
            found, gram_doc = self._opening_ids(docs)
            parts_ids.append(found)
            parts_doc.append(gram_doc)
        return self._rows(np.concatenate(parts_doc), np.concatenate(parts_ids), n)

    def _opening_ids(self, docs: list[list[str]]) -> tuple[np.ndarray, np.ndarray]:
        """Ids and texts of the opening n-grams of every text (code points joined by 0)."""
        heads = "\0".join(tokenize.opening_text(tokens, self.opening) for tokens in docs)
        cps = np.frombuffer(heads.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        doc = np.cumsum(cps == 0)
        keys_all, docs_all = [], []
        for size in self.opening_grams:
            if len(cps) < size:
                continue
            key = np.zeros(len(cps) - size + 1, dtype=np.int64)
            inside = np.ones(len(key), dtype=bool)
            for j in range(size):
                part = cps[j : j + len(key)]
                key = (key << _CP_BITS) | part
                inside &= part != 0
            keys_all.append(key[inside])
            docs_all.append(doc[: len(key)][inside])
        if not keys_all:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return _lookup(np.concatenate(keys_all), *self._gram_keys(), np.concatenate(docs_all))

    def _rows(self, doc: np.ndarray, ids: np.ndarray, n: int) -> Rows:
        width = self.n_features
        # one sort for the batch: (row, column) pairs, their counts, columns sorted per row
        keys, counts = np.unique(doc * width + ids, return_counts=True)
        rows = keys // width
        cols = (keys - rows * width).astype(np.int32)
        data = (np.log(counts.astype(np.float32)) + np.float32(1.0)) * self.idf[cols]
        norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=n)).astype(np.float32)
        norms[norms == 0] = 1.0
        data /= norms[rows]
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
        return Rows(data, cols, indptr, (n, width))


class _Growing:
    """A NumPy array appended to in place, its room doubled when full."""

    def __init__(self, dtype) -> None:
        self._buffer = np.zeros(1024, dtype=dtype)
        self._size = 0

    def extend(self, items: list) -> None:
        end = self._size + len(items)
        if end > len(self._buffer):
            bigger = np.zeros(max(end, 2 * len(self._buffer)), dtype=self._buffer.dtype)
            bigger[: self._size] = self._buffer[: self._size]
            self._buffer = bigger
        self._buffer[self._size : end] = items
        self._size = end

    @property
    def values(self) -> np.ndarray:
        return self._buffer[: self._size]


def _sorted_table(keys: list[int], ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
    k = np.array(keys, dtype=np.int64)
    order = np.argsort(k, kind="stable")
    return k[order], np.array(ids, dtype=np.int64)[order]


def _lookup(keys: np.ndarray, table: np.ndarray, ids: np.ndarray,
            doc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ids of the keys found in the sorted table, with their texts."""
    if not len(table) or not len(keys):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    # sorted needles: each search starts where the last ended (3× faster than in text order);
    # the order of the found pairs does not matter, they are counted by a sort later
    order = np.argsort(keys)
    keys, doc = keys[order], doc[order]
    at = np.minimum(np.searchsorted(table, keys), len(table) - 1)
    hit = table[at] == keys
    return ids[at[hit]], doc[hit]
