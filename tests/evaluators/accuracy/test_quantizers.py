"""Properties of the uniform integer quantizers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from codesign.errors import ConfigError
from codesign.evaluators.accuracy.quantizers import (
    RangeObserver, calibrate_range, check_bits, fake_quant, qparams_from_data, qparams_from_range, qrange,
    quantize,
)

floats = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, width=64)
tensors = arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 40)), elements=floats)
granularity = st.sampled_from([{}, {"axis": 0}, {"axis": 1}, {"group_size": 8}, {"group_size": 32}])


@settings(max_examples=150, deadline=None)
@given(x=tensors, bits=st.integers(1, 16), symmetric=st.booleans(), gran=granularity)
def test_codes_in_range_and_int(x, bits, symmetric, gran):
    t = quantize(x, bits, symmetric=symmetric, **gran)
    qmin, qmax = qrange(bits, symmetric)
    assert t.codes.dtype == np.int32 and t.codes.shape == x.shape
    assert t.codes.min() >= qmin and t.codes.max() <= qmax
    assert np.all(t.scale > 0)
    if symmetric:
        assert not t.zero_point.any()
    if symmetric and bits == 1:
        assert set(np.unique(t.codes)) <= {-1, 1}


@settings(max_examples=150, deadline=None)
@given(x=tensors, bits=st.integers(2, 16), symmetric=st.booleans(), gran=granularity)
def test_error_at_most_half_a_step(x, bits, symmetric, gran):
    """Every value lies in its own range (calibrated on x), so |x - x_hat| <= s/2."""
    t = quantize(x, bits, symmetric=symmetric, **gran)
    step = t.params.expand(t.scale, x.shape)
    err = np.abs(t.dequantize() - x)
    assert np.all(err <= step / 2 * (1 + 1e-9) + 1e-12)
    np.testing.assert_array_equal(fake_quant(x, bits, symmetric=symmetric, **gran), t.dequantize())


def test_scale_shapes():
    w = np.random.default_rng(0).normal(size=(16, 8, 3, 3))
    assert quantize(w, 4).scale.shape == ()
    assert quantize(w, 4, axis=0).scale.shape == (16, 1, 1, 1)
    assert quantize(w, 4, axis=-1).scale.shape == (1, 1, 1, 3)
    w2 = w.reshape(16, -1)  # [N, K] with K = 72
    t = quantize(w2, 4, group_size=32)
    assert t.scale.shape == (16, 3) and t.zero_point.shape == (16, 3)
    assert quantize(w2, 4, group_size=32, group_axis=0).scale.shape == (1, 72)
    # per channel = one scale per row: max |w| of the row maps to qmax
    s = quantize(w2, 8, axis=0).scale[:, 0]
    np.testing.assert_allclose(s, np.abs(w2).max(axis=1) / 127)


def test_groups_match_per_block_quantization():
    x = np.random.default_rng(1).normal(size=(4, 64))
    grouped = fake_quant(x, 3, group_size=16)
    blocks = [fake_quant(x[:, i : i + 16], 3, axis=0) for i in range(0, 64, 16)]
    np.testing.assert_array_equal(grouped, np.concatenate(blocks, axis=1))


def test_asymmetric_zero_point():
    x = np.linspace(-1.0, 3.0, 101)
    t = quantize(x, 8, symmetric=False)
    assert t.params.qmin == 0 and t.params.qmax == 255
    np.testing.assert_allclose(t.scale, 4.0 / 255)
    assert int(t.zero_point) == round(1.0 / (4.0 / 255))  # z = round(qmin - lo/s)
    assert fake_quant(np.array([0.0]), 8, symmetric=False, params=t.params)[0] == 0.0  # 0 is exact
    # non-negative tensors (ReLU outputs) get unsigned codes with z = 0
    p = qparams_from_range(0.5, 2.0, 4, symmetric=False)
    assert int(p.zero_point) == 0 and float(p.scale) == pytest.approx(2.0 / 15)


@pytest.mark.parametrize("bits", [0, 17, -1, 2.5, True, "8"])
def test_bits_validation(bits):
    with pytest.raises(ConfigError) as e:
        quantize(np.ones(3), bits, what="w_bits")
    assert str(e.value) == f"`w_bits` must be in [1, 16], but got {bits!r}"
    assert "\n" not in str(e.value)


def test_bits_message_example():
    with pytest.raises(ConfigError, match=r"^`w_bits` must be in \[1, 16\], but got 0$"):
        check_bits(0, "w_bits")


def test_range_observer_minmax_and_percentile():
    rng = np.random.default_rng(2)
    batches = [rng.normal(size=(8, 10)) for _ in range(4)]
    lo, hi = calibrate_range(batches)
    allv = np.concatenate(batches)
    assert (lo, hi) == (allv.min(), allv.max())
    plo, phi = calibrate_range(batches, "percentile", 99.0)
    assert lo < plo < phi < hi
    obs = RangeObserver(axis=1)
    for b in batches:
        obs.update(b)
    clo, chi = obs.range()
    np.testing.assert_array_equal(chi, allv.max(axis=0))
    assert obs.qparams(8).scale.shape == (1, 10)
    with pytest.raises(ConfigError):
        RangeObserver("mse")
    with pytest.raises(ConfigError):
        RangeObserver().range()


def test_binary_and_degenerate():
    x = np.array([[-2.0, 1.0, 0.0, 3.0]])
    t = quantize(x, 1)
    np.testing.assert_array_equal(t.codes, [[-1, 1, 1, 1]])
    assert float(t.scale) == pytest.approx(1.5)  # mean |x|
    z = quantize(np.zeros((2, 3)), 4, axis=0)  # zero range: scale 1, codes 0
    assert np.all(z.scale == 1.0) and not z.codes.any()
    assert fake_quant(np.float32([0.1, 0.7]), 4).dtype == np.float32


@pytest.mark.parametrize("gran", [{}, {"axis": 0}, {"group_size": 16}])
@pytest.mark.parametrize("symmetric", [True, False])
def test_mse_range_never_worse(gran, symmetric):
    x = np.random.default_rng(3).standard_t(3, size=(8, 40))
    for bits in (2, 3, 4, 8):
        plain = ((fake_quant(x, bits, symmetric, **gran) - x) ** 2).sum()
        p = qparams_from_data(x, bits, symmetric, mse=True, **gran)
        assert p.scale.shape == qparams_from_data(x, bits, symmetric, **gran).scale.shape
        assert ((p.fake_quant(x) - x) ** 2).sum() <= plain + 1e-12
