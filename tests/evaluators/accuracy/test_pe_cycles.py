"""Data-dependent PE cycles from a probe's real quantized weights (slow: loads the Fashion-MNIST CNN)."""

from __future__ import annotations

import numpy as np
import pytest

from codesign.errors import ConfigError
from codesign.rtl_sim.essential import mean_phases

pytestmark = pytest.mark.slow
pytest.importorskip("torch")


@pytest.fixture(scope="module")
def fmnist():
    from codesign.evaluators.accuracy.fmnist import FashionMNISTProbe

    try:
        return FashionMNISTProbe(eval_size=200, disk_cache=False)
    except ConfigError as exc:
        pytest.skip(str(exc))


def test_integer_weights_are_the_probe_codes(fmnist) -> None:
    from codesign.evaluators.accuracy.pe_cycles import integer_weights

    for layer in fmnist.layers:
        m, n, k = layer.gemm_shape
        for bits in (4, 8):
            w = integer_weights(fmnist, layer.name, bits)
            assert w.shape == (k, n) and w.dtype == np.int64
            assert np.abs(w).max() == 2 ** (bits - 1) - 1  # symmetric narrow range, per channel max


def test_hook_answers_from_weights_then_from_disk(fmnist, tmp_path) -> None:
    from codesign.evaluators.accuracy.pe_cycles import MeasuredPECycles, integer_weights
    from codesign.evaluators.accuracy.real_workloads import fmnist_cnn
    from codesign.evaluators.cost.evaluator import CostModelEvaluator

    hook = MeasuredPECycles(fmnist, cache_dir=tmp_path)
    layer = fmnist.layers[2]
    hw = {"pe_type": "essential", "array_cols": 16}
    p = hook(layer, 8, 8, hw)
    assert p == pytest.approx(mean_phases(integer_weights(fmnist, layer.name, 8), 4, 16))
    assert 1 <= p < 7  # below the 8-bit worst case of 7 terms on the real weights
    assert hook(layer, 8, 8, {"pe_type": "bit_serial", "array_cols": 16}) is None

    def no_probe():
        raise AssertionError("the disk cache must answer without loading the model")

    again = MeasuredPECycles(no_probe, cache_key=hook.cache_key, cache_dir=tmp_path)
    assert again(layer, 8, 8, hw) == p
    sampled = MeasuredPECycles(fmnist, sample_blocks=64, disk=False)(layer, 8, 8, hw)
    assert abs(sampled - p) < 0.5

    wl = fmnist_cnn()
    design = {"pe_type": "essential", "array_rows": 8, "array_cols": 16, "glb_kb": 256, "pe_buf_bytes": 64,
              "dram_gbps": 51.2, "clock_mhz": 500, "w_bits.all": 8, "a_bits.all": 8}
    worst = CostModelEvaluator(wl, mapper_kwargs={"samples": 100, "rounds": 1}).evaluate(design)
    real = CostModelEvaluator(wl, mapper_kwargs={"samples": 100, "rounds": 1}, pe_cycles=hook).evaluate(design)
    assert real.values["latency_cycles"] < worst.values["latency_cycles"]
