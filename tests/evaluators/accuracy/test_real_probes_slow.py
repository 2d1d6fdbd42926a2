"""The real probes on their real models and data (slow: trained / loaded once per session)."""

from __future__ import annotations

import json

import pytest

from codesign.cli.main import main
from codesign.errors import ConfigError
from codesign.types import Design

pytestmark = pytest.mark.slow
torch = pytest.importorskip("torch")


def uniform(w: int, a: int = 8) -> Design:
    return Design({"w_bits.all": w, "a_bits.all": a})


@pytest.fixture(scope="module")
def fmnist(skip_unless_ci):
    from codesign.evaluators.accuracy.fmnist import FashionMNISTProbe

    try:
        return FashionMNISTProbe(eval_size=1000, disk_cache=False)
    except ConfigError as exc:
        skip_unless_ci(str(exc))


def test_fmnist_bits_and_determinism(fmnist) -> None:
    fp = fmnist.float_result["values"]["accuracy"]
    assert fp > 0.8
    w8 = fmnist.evaluate(uniform(8))
    assert abs(w8["accuracy"] - fp) <= 3 * w8.breakdown["stderr"]
    assert fmnist.evaluate(uniform(2, 2))["accuracy"] < fp - 0.2
    again = fmnist.evaluate(uniform(8))
    assert again["accuracy"] == w8["accuracy"] and again.breakdown["cached"]
    assert fmnist.evaluate(Design({"w_bits.fc1": 2, "a_bits.fc1": 8})).breakdown["bits"]["conv1"] is None


def _logits(probe, config):
    """The probe model's test-set outputs with ``config`` applied (restored afterwards)."""
    handles = probe.apply(config)
    try:
        with torch.no_grad():
            return probe.model(probe.test_x)
    finally:
        probe.restore(handles)


@pytest.mark.parametrize("pe", ["bit_parallel", "bit_serial", "lut"])
def test_fmnist_hardware_exact_equals_fake_quant(fmnist, pe: str) -> None:
    from codesign.evaluators.accuracy.fmnist import FashionMNISTProbe

    hw = FashionMNISTProbe(eval_size=200, disk_cache=False, hw_exact=True, pe=pe)
    fq = FashionMNISTProbe(eval_size=200, disk_cache=False)
    for w, a in ((4, 8), (3, 4)):
        config = hw.bit_config(uniform(w, a))
        y_hw, y_fq = _logits(hw, config), _logits(fq, config)
        assert hw.hw_stats["int_equal"] and hw.hw_stats["gemms"] > 0
        # float64 vs float32 accumulation can flip a rare downstream activation code: close, not bitwise
        assert (y_hw - y_fq).abs().max() <= 1e-2 * y_fq.abs().max()
        assert (y_hw.argmax(1) == y_fq.argmax(1)).float().mean() >= 0.99
        acc_hw, acc_fq = (hw.measure_config(config)["values"]["accuracy"], fq.measure_config(config)["values"]["accuracy"])
        assert abs(acc_hw - acc_fq) <= 2 / len(hw.test_y)


def test_fmnist_proxy_calibration(fmnist) -> None:
    from codesign.evaluators.accuracy.proxy import ProxyEvaluator, calibrate
    from codesign.evaluators.accuracy.real_workloads import fmnist_cnn

    from scipy.stats import spearmanr

    from codesign.evaluators.accuracy.proxy import Proxy

    res = calibrate(fmnist, fmnist_cnn(), n=8, seed=1)
    assert len(res["rows"]) == 8
    # the reported correlation is the one of the reported rows
    rho = spearmanr([r["proxy"] for r in res["rows"]], [r["degradation"] for r in res["rows"]]).statistic
    assert res["spearman"] == pytest.approx(rho)
    # a ladder of ever fewer bits: the proxy rises at every step, and it orders every pair of
    # designs whose real degradations differ by more than 3 standard errors as the real
    # measurement does (pairs within the noise are not ranked by the real metric either)
    ladder = [uniform(8, 8), uniform(6, 8), uniform(4, 6), uniform(3, 5), uniform(2, 4)]
    proxy = Proxy(fmnist)
    configs = [fmnist.bit_config(d) for d in ladder]
    prox = [proxy(c) for c in configs]
    assert all(b > a for a, b in zip(prox, prox[1:])), prox
    measured = [fmnist.measure_config(c) for c in configs]
    real = [fmnist.degradation(m["values"]["accuracy"]) for m in measured]
    se = [m["stderr"] for m in measured]
    assert real[-1] > 0.05 + max(real[:2])  # the ladder spans a real degradation
    separated = [(i, j) for i in range(len(real)) for j in range(i + 1, len(real))
                 if abs(real[i] - real[j]) > 3 * (se[i] ** 2 + se[j] ** 2) ** 0.5]
    assert len(separated) >= 4, (real, se)
    for i, j in separated:
        assert (prox[i] < prox[j]) == (real[i] < real[j]), (i, j, prox, real)
    ev = ProxyEvaluator(fmnist)
    lo, hi = ev.evaluate(uniform(8))["proxy_loss_increase"], ev.evaluate(uniform(2, 4))["proxy_loss_increase"]
    assert 0 <= lo < hi
    assert "accuracy" in ev.remeasure([uniform(8)])[0].values


def test_moe_probe_per_expert_bits(skip_unless_ci) -> None:
    from codesign.evaluators.accuracy.moe import MoEProbe

    try:
        probe = MoEProbe(eval_size=4096, disk_cache=False)
    except ConfigError as exc:
        skip_unless_ci(str(exc))
    fp = probe.float_result["values"]["bits_per_byte"]
    assert 1.8 < fp < 2.5
    assert abs(probe.evaluate(uniform(8))["bits_per_byte"] - fp) < 0.03
    assert probe.evaluate(uniform(2))["bits_per_byte"] > fp + 1.0
    one = probe.evaluate(Design({"w_bits.layers.0.mlp.e3": 2, "a_bits.layers.0.mlp.e3": 8}))
    bits = one.breakdown["bits"]
    assert bits["layers.0.mlp.e3.w1"] == {"w_bits": 2, "a_bits": 8} and bits["layers.0.mlp.e4.w1"] is None
    assert one["bits_per_byte"] > fp
    block = probe.evaluate(Design({"w_bits.layers.0.mlp.e3.w2": 2, "a_bits.layers.0.mlp.e3.w2": 8}))
    assert block.breakdown["bits"]["layers.0.mlp.e3.w1"] is None


def test_minilm_probe(skip_unless_ci) -> None:
    pytest.importorskip("transformers")
    from codesign.evaluators.accuracy.minilm import MiniLMProbe

    try:
        probe = MiniLMProbe(eval_size=100, disk_cache=False)
    except ConfigError as exc:
        skip_unless_ci(str(exc))
    fp = probe.float_result["values"]
    assert fp["accuracy"] > 0.5 and fp["wordsim353_spearman"] > 0.6
    assert probe.evaluate(uniform(2))["wordsim353_spearman"] < fp["wordsim353_spearman"] - 0.2
    # document-similarity fidelity on the Lee news corpus: ~1 at 8 bits, clearly lower at 2 bits
    assert probe.evaluate(uniform(8))["news_docsim_spearman"] > 0.95
    assert probe.evaluate(uniform(2))["news_docsim_spearman"] < 0.9


def test_probe_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["probe", "--workload", "fmnist-cnn", "--w-bits", "4", "--a-bits", "8", "--eval-size", "200", "--json"]
    assert main(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["metric"] == "accuracy" and 0 < doc["value"] <= 1 and doc["load_s"] > 0
