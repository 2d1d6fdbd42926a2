"""The digits accuracy probe: real data, real split, cached training, quantized NumPy forward."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest

from codesign.errors import ConfigError
from codesign.evaluators.accuracy import digits as D
from codesign.evaluators.base import Evaluator
from codesign.types import Design


def uniform(w: int, a: int = 8) -> Design:
    return Design({f"{k}.{n}": v for n in D.LAYER_NAMES for k, v in (("w_bits", w), ("a_bits", a))})


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("digits-cache")


@pytest.fixture(scope="session")
def probe(cache_dir):
    return D.DigitsProbe(cache_dir=cache_dir)  # trains once per test session


def test_protocol_and_names(probe):
    assert isinstance(probe, Evaluator)
    assert probe.name == "digits-probe" and probe.version == "1"
    assert probe.metrics == ("accuracy", "accuracy_drop")
    assert D.LAYER_NAMES == ("conv1", "conv2", "fc1", "fc2")


def test_real_split(probe):
    tr, ca, te = probe.train_idx, probe.calib_idx, probe.test_idx
    assert len(tr) + len(ca) + len(te) == 1797
    assert not (set(tr) & set(ca) or set(tr) & set(te) or set(ca) & set(te))
    assert len(te) == len(probe.y_test) == 540 and abs(len(ca) - 180) <= 1
    assert np.bincount(probe.y_test).min() >= 50  # stratified: every class well represented


def test_float_and_8bit_accuracy(probe):
    assert probe.float_accuracy >= 0.95
    assert probe.evaluate(Design({})).values["accuracy"] == probe.float_accuracy  # no bits: float
    m = probe.evaluate(uniform(8, 8))
    assert abs(m["accuracy"] - probe.float_accuracy) <= 0.01
    assert m["accuracy_drop"] == pytest.approx(probe.float_accuracy - m["accuracy"])
    assert m.breakdown["bits"]["fc1"] == {"w_bits": 8, "a_bits": 8}


def test_low_bits_hurt(probe):
    acc = {w: probe.evaluate(uniform(w))["accuracy"] for w in (8, 6, 4, 3, 2)}
    assert acc[2] < acc[8] - 0.1  # 2-bit weights everywhere: clearly lower
    assert acc[8] >= acc[4] - 0.01 and acc[4] >= acc[2] and acc[3] >= acc[2]  # monotone-ish
    a_acc = {a: probe.evaluate(uniform(8, a))["accuracy"] for a in (8, 2, 1)}
    assert a_acc[1] < a_acc[8]


def test_per_layer_bits_and_aliases(probe):
    only_fc2 = Design({"w_bits.fc2": 2, "a_bits.fc2": 8})
    assert probe.bit_config(only_fc2) == (None, None, None, (2, 8))
    assert probe.evaluate(Design({"w_bits.all": 4, "a_bits.all": 6})) == probe.evaluate(uniform(4, 6))


def test_deterministic_and_memoized(probe, cache_dir):
    d = Design({"w_bits.conv1": 3, "a_bits.conv1": 4, "w_bits.fc1": 2, "a_bits.fc1": 3})
    first = probe.evaluate(d).values
    probe._memo.clear()
    assert probe.evaluate(d).values == first
    other = D.DigitsProbe(cache_dir=cache_dir)
    assert other.evaluate(d).values == first
    assert [m.values for m in probe.evaluate_many([d, uniform(8)])] == [first, probe.evaluate(uniform(8)).values]


def test_calibration_uses_calibration_split(probe, cache_dir):
    arrays, _ = D.load_or_train(cache_dir)
    calib = D.to_input(arrays["images"][arrays["calib_idx"]], nhwc=True)
    test = D.to_input(arrays["images"][arrays["test_idx"]], nhwc=True)

    def ranges(x):
        obs = {n: D.RangeObserver() for n in D.LAYER_NAMES}
        D.forward(probe.params, x, observers=obs)
        return {n: tuple(float(v) for v in o.range()) for n, o in obs.items()}

    assert probe.act_ranges == ranges(calib)
    assert probe.act_ranges != ranges(test)
    assert all(lo == 0.0 for lo, _ in probe.act_ranges.values())  # image and ReLU outputs


def test_cache_reused_without_training(probe, cache_dir, monkeypatch):
    files = [p for p in os.listdir(cache_dir)]
    assert files == [probe.cache_path.name]  # no temp files left behind
    mtime = probe.cache_path.stat().st_mtime_ns

    def boom(seed):
        raise AssertionError("retrained although the cache exists")

    monkeypatch.setattr(D, "train_network", boom)
    again = D.DigitsProbe(cache_dir=cache_dir)
    assert again.float_accuracy == probe.float_accuracy
    assert probe.cache_path.stat().st_mtime_ns == mtime
    # a fresh process loads the cache without importing torch or scikit-learn
    code = ("import sys; from codesign.evaluators.accuracy.digits import DigitsProbe; "
            f"p = DigitsProbe(cache_dir={str(cache_dir)!r}); "
            "assert 'torch' not in sys.modules and 'sklearn' not in sys.modules, 'imported'; "
            "print(p.float_accuracy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert float(out.stdout) == probe.float_accuracy


def test_cache_dir_from_env(cache_dir, monkeypatch):
    monkeypatch.setenv("CODESIGN_CACHE", str(cache_dir))
    monkeypatch.setattr(D, "train_network", lambda seed: pytest.fail("retrained"))
    assert D.default_cache_dir() == cache_dir
    assert D.DigitsProbe().cache_path.parent == cache_dir


def test_eval_size(probe, cache_dir):
    small = D.DigitsProbe(cache_dir=cache_dir, eval_size=100)
    assert small.version != probe.version
    m = small.evaluate(uniform(8))
    assert m.breakdown["n_test"] == 100
    with pytest.raises(ConfigError):
        D.DigitsProbe(cache_dir=cache_dir, eval_size=0)


def test_bad_bits(probe):
    with pytest.raises(ConfigError, match=r"^`w_bits.conv1` must be in \[1, 16\], but got 0$"):
        probe.evaluate(Design({"w_bits.conv1": 0, "a_bits.conv1": 8}))
    with pytest.raises(ConfigError, match=r"^`a_bits.fc1` must be in \[1, 16\], but got 17$"):
        probe.evaluate(Design({"w_bits.fc1": 4, "a_bits.fc1": 17}))


def test_fast(probe):
    rng = np.random.default_rng(0)
    designs = [Design({f"{k}.{n}": int(rng.integers(2, 9)) for n in D.LAYER_NAMES for k in ("w_bits", "a_bits")})
               for _ in range(30)]
    probe.evaluate_many(designs[:5])  # warm quantized-weight caches
    times = []
    for d in designs[5:]:
        t = time.perf_counter()
        probe.evaluate(d)
        times.append(time.perf_counter() - t)
    assert np.median(times) < 0.1  # ~5 ms on an idle CPU; loose for shared CI machines


def test_mse_weight_range_option(probe, cache_dir):
    mse = D.DigitsProbe(cache_dir=cache_dir, weight_range="mse")
    assert mse.version == "1+wrange=mse" and mse.float_accuracy == probe.float_accuracy
    assert mse.evaluate(uniform(2))["accuracy"] > probe.evaluate(uniform(2))["accuracy"]
    with pytest.raises(ConfigError):
        D.DigitsProbe(cache_dir=cache_dir, weight_range="kl")
