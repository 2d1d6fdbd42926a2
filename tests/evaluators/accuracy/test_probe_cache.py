"""Probe speed mechanisms: answers before any build, persisted calibration, row sampling without unfolding."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.types import Design
from codesign.workloads.layer import Layer, gemm

torch = pytest.importorskip("torch")

from codesign.evaluators.accuracy.layer_inputs import as_rows, input_range, row_count, sample_rows  # noqa: E402
from codesign.evaluators.accuracy.probe import TorchProbe, shared_probe  # noqa: E402


@settings(max_examples=25, deadline=None, derandomize=True)
@given(k=st.sampled_from([1, 2, 3]), stride=st.sampled_from([1, 2]), pad=st.sampled_from([0, 1, 2]),
       dil=st.sampled_from([1, 2]), hw=st.integers(5, 9), c=st.integers(1, 3))
def test_sampled_rows_equal_the_unfolded_rows(k: int, stride: int, pad: int, dil: int, hw: int, c: int) -> None:
    conv = torch.nn.Conv2d(c, 2, k, stride=stride, padding=pad, dilation=dil)
    x = torch.randn(3, c, hw, hw + 1) + 0.5
    full = as_rows(conv, x)
    assert row_count(conv, x) == full.shape[0]
    idx = np.random.default_rng(0).choice(full.shape[0], min(7, full.shape[0]), replace=False)
    assert torch.equal(sample_rows(conv, x, idx), full[torch.as_tensor(idx)])
    lo, hi = input_range(conv, x)
    assert lo <= float(full.min()) and hi >= float(full.max())
    if stride == 1 and dil == 1:  # every pixel is in some patch: the same range as unfolding
        assert (lo, hi) == (float(full.min()), float(full.max()))


def test_linear_rows() -> None:
    lin = torch.nn.Linear(4, 2)
    x = torch.randn(2, 5, 4)
    assert row_count(lin, x) == 10
    assert torch.equal(sample_rows(lin, x, [9, 0]), x.reshape(-1, 4)[[9, 0]])


class TinyProbe(TorchProbe):
    """A two-layer MLP on synthetic data; counts builds and calibration passes."""

    name = "tiny-probe"
    primary = "accuracy"
    metrics = ("accuracy", "accuracy_degradation")
    builds = 0
    calib_passes = 0

    def build(self) -> tuple[Any, Sequence[Layer]]:
        type(self).builds += 1
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
        gen = torch.Generator().manual_seed(1)
        self.x = torch.randn(300, 8, generator=gen)
        self.y = net(self.x).argmax(1).numpy()
        return net, [gemm("0", 1, 16, 8), gemm("2", 1, 3, 16)]

    def calib_batches(self) -> Iterable[Any]:
        type(self).calib_passes += 1
        return [torch.randn(64, 8, generator=torch.Generator().manual_seed(2))]

    def measure(self) -> tuple[dict[str, float], np.ndarray]:
        correct = (self.model(self.x).argmax(1).numpy() == self.y).astype(float)
        return {"accuracy": float(correct.mean())}, correct


def test_cached_answers_build_nothing(tmp_path) -> None:
    TinyProbe.builds = TinyProbe.calib_passes = 0
    d2, d8 = Design({"w_bits.all": 2, "a_bits.all": 2}), Design({"w_bits.all": 8, "a_bits.all": 8})
    first = TinyProbe(cache_dir=tmp_path)
    m2 = first.evaluate(d2)
    assert first.loaded and TinyProbe.builds == 1 and TinyProbe.calib_passes == 1
    assert m2["accuracy_degradation"] > 0 and not m2.breakdown["cached"]

    second = TinyProbe(cache_dir=tmp_path)  # a new process: manifest + disk cache answer
    again = second.evaluate(d2)
    assert not second.loaded and TinyProbe.builds == 1
    assert again.values == m2.values and again.breakdown["cached"]
    assert again.breakdown["bits"] == {"0": {"w_bits": 2, "a_bits": 2}, "2": {"w_bits": 2, "a_bits": 2}}

    m8 = second.evaluate(d8)  # a miss builds, but the calibration statistics come from disk
    assert second.loaded and TinyProbe.builds == 2 and TinyProbe.calib_passes == 1
    assert second.act_ranges == first.act_ranges
    assert all(np.array_equal(second.calib_inputs[n], first.calib_inputs[n]) for n in first.calib_inputs)
    assert m8["accuracy"] >= m2["accuracy"]


def test_answers_directory_of_its_own(tmp_path, monkeypatch) -> None:
    """``$CODESIGN_PROBE_RESULTS`` moves the memoized answers (``bench scale`` gives each
    configuration an empty one); the calibration statistics stay in the shared cache."""
    d4 = Design({"w_bits.all": 4, "a_bits.all": 4})
    TinyProbe(cache_dir=tmp_path).evaluate(d4)
    shared = {p.name for p in (tmp_path / "probes").iterdir()}
    fresh = tmp_path / "answers"
    monkeypatch.setenv("CODESIGN_PROBE_RESULTS", str(fresh))
    TinyProbe.builds = TinyProbe.calib_passes = 0
    m = TinyProbe(cache_dir=tmp_path).evaluate(d4)
    assert not m.breakdown["cached"] and TinyProbe.builds == 1 and TinyProbe.calib_passes == 0
    assert list(fresh.iterdir()) and {p.name for p in (tmp_path / "probes").iterdir()} == shared
    assert TinyProbe(cache_dir=tmp_path).evaluate(d4).breakdown["cached"]


def test_disk_cache_off_always_builds(tmp_path) -> None:
    TinyProbe.builds = TinyProbe.calib_passes = 0
    for _ in range(2):
        TinyProbe(cache_dir=tmp_path, disk_cache=False).evaluate(Design({"w_bits.all": 4, "a_bits.all": 4}))
    assert TinyProbe.builds == 2 and TinyProbe.calib_passes == 2
    assert not (tmp_path / "probes").exists()


def test_shared_probe_is_one_object_per_settings(tmp_path) -> None:
    a = shared_probe(TinyProbe, cache_dir=str(tmp_path), eval_size=None)
    assert shared_probe(TinyProbe, cache_dir=str(tmp_path), eval_size=None) is a
    assert shared_probe(TinyProbe, cache_dir=str(tmp_path), eval_size=5) is not a


def test_threads_must_be_positive() -> None:
    from codesign.errors import ConfigError

    with pytest.raises(ConfigError, match="threads"):
        TinyProbe(threads=0)


class TinyDeviceProbe(TinyProbe):
    """TinyProbe whose measurement moves its inputs (may run on a GPU)."""

    name = "tiny-device-probe"
    devices = ("cpu", "cuda")

    def measure(self) -> tuple[dict[str, float], np.ndarray]:
        pred = self.model(self.to_device(self.x)).argmax(1).cpu().numpy()
        correct = (pred == self.y).astype(float)
        return {"accuracy": float(correct.mean())}, correct


@pytest.mark.parametrize("device, match", [("gpu", "'cpu', 'cuda' or 'cuda:N'"), ("cuda:", "'cpu', 'cuda' or 'cuda:N'"),
                                           ("cuda", "measures on cpu only")])
def test_device_must_be_one_the_probe_supports(device: str, match: str) -> None:
    from codesign.errors import ConfigError

    with pytest.raises(ConfigError, match=match):
        TinyProbe(device=device)


def test_device_from_the_environment_and_not_with_hw_exact(monkeypatch) -> None:
    from codesign.errors import ConfigError

    monkeypatch.setenv("CODESIGN_PROBE_DEVICE", "cuda:1")
    assert TinyDeviceProbe().device == "cuda:1"
    with pytest.raises(ConfigError, match="hardware-exact mode runs on the CPU only"):
        TinyDeviceProbe(hw_exact=True)
    monkeypatch.delenv("CODESIGN_PROBE_DEVICE")
    assert TinyDeviceProbe().device == "cpu"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error of a machine without CUDA")
def test_cuda_without_a_gpu_is_a_clear_error(tmp_path) -> None:
    from codesign.errors import ConfigError

    probe, d = TinyDeviceProbe(cache_dir=tmp_path, device="cuda"), Design({"w_bits.all": 4, "a_bits.all": 4})
    with pytest.raises(ConfigError, match="torch sees no CUDA device"):
        probe.evaluate(d)
    assert probe.cached_result(probe.bit_config(d)) is None  # nothing memoized, the model restored
    assert all(torch.equal(probe.modules[n].weight, w) for n, w in probe.orig_weights.items())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_gpu_measurement_matches_the_cpu(tmp_path) -> None:  # pragma: no cover - GPU machines only
    for bits in (2, 4, 8):
        d = Design({"w_bits.all": bits, "a_bits.all": bits})
        cpu = TinyDeviceProbe(cache_dir=tmp_path / "c").evaluate(d)
        gpu = TinyDeviceProbe(cache_dir=tmp_path / "g", device="cuda").evaluate(d)
        assert gpu["accuracy"] == pytest.approx(cpu["accuracy"], abs=2 / 300)
