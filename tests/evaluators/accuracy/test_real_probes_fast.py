"""Fast checks of the real-probe plumbing: schemes, workloads, data splits, CLI errors."""

from __future__ import annotations


import numpy as np
import pytest

from codesign.cli.main import main
from codesign.errors import ConfigError
from codesign.evaluators.accuracy.probe import QuantScheme
from codesign.spaces.builders import expert_group, quant_keys, quant_space

torch = pytest.importorskip("torch")


def test_scheme_validates_and_keys() -> None:
    assert QuantScheme().key == "w:sym-ch,a:asym-minmax-tensor"
    assert QuantScheme(w_group=64, w_symmetric=False).key.startswith("w:asym-g64")
    with pytest.raises(ConfigError, match="group"):
        QuantScheme(w_group=48)
    with pytest.raises(ConfigError, match="a_calibration"):
        QuantScheme(a_calibration="mean")


def test_group_weight_quantizer_has_one_scale_per_group() -> None:
    w = np.random.default_rng(0).normal(size=(8, 256))
    q = QuantScheme(w_group=64).weight_qparams(w, 4, "w")
    assert q.scale.shape == (8, 4)
    assert np.abs(q.fake_quant(w) - w).max() < np.abs(w).max() / 7 + 1e-9


def test_moe_workload_has_measured_routing_and_expert_keys() -> None:
    from codesign.evaluators.accuracy.real_workloads import moe_routing, moe_shakespeare

    wl = moe_shakespeare(tokens=256)
    routing = moe_routing()
    assert len(routing) == wl.meta["moe_layers"] == 4
    assert all(abs(sum(r) - 1) < 1e-9 and len(r) == 8 for r in routing)
    experts = [l for l in wl.layers if l.expert is not None]
    assert len(experts) == 4 * 8 * 3
    e = wl["layers.2.mlp.e5.w1"]
    assert e.tokens == pytest.approx(256 * 2 * routing[2][5])
    assert expert_group(e) == "layers.2.mlp.e5"
    keys = set(quant_keys(wl, "expert").values())
    assert "layers.2.mlp.e5" in keys and "lm_head" in keys
    assert len(quant_space(wl, granularity="expert").params) == 2 * len(keys)


def test_moe_workload_matches_model_modules() -> None:
    from codesign.evaluators.accuracy.moe import load_moe
    from codesign.evaluators.accuracy.real_workloads import moe_shakespeare

    names = {n for n, m in load_moe().named_modules() if isinstance(m, torch.nn.Linear)}
    assert names == {l.name for l in moe_shakespeare().layers}


def test_fmnist_workload_is_traced() -> None:
    from codesign.evaluators.accuracy.real_workloads import fmnist_cnn

    wl = fmnist_cnn()
    assert [l.name for l in wl.layers] == ["conv1", "conv2", "fc1", "fc2"]
    assert wl["fc1"].gemm_shape == (1, 128, 1568)


def test_fmnist_pool_is_torchs_max_pool_bit_for_bit() -> None:
    """The CNN's inference pool (two maxima over views) equals ``nn.MaxPool2d(2)`` exactly,
    NaN and infinities included, and training (autograd on) runs torch's own kernel."""
    import torch

    from codesign.evaluators.accuracy.fmnist import build_cnn

    pool, ref = build_cnn().pool, torch.nn.MaxPool2d(2)
    g = torch.Generator().manual_seed(0)
    for shape in ((3, 16, 28, 28), (2, 32, 14, 14), (1, 1, 4, 4)):
        x = torch.randn(*shape, generator=g)
        x.view(-1)[:: 7] = x.view(-1)[1:: 7]  # ties
        x.view(-1)[5] = float("nan")
        x.view(-1)[9], x.view(-1)[13] = float("inf"), float("-inf")
        with torch.no_grad():
            assert torch.equal(pool(x).nan_to_num(7.0), ref(x).nan_to_num(7.0))
            assert pool(x).isnan().equal(ref(x).isnan())
    odd = torch.randn(1, 2, 7, 7, generator=g)
    with torch.no_grad():
        assert torch.equal(pool(odd), ref(odd))  # odd sizes: torch's kernel (floor mode)
    xg = torch.randn(1, 2, 4, 4, generator=g, requires_grad=True)
    pool(xg).sum().backward()
    assert xg.grad is not None and xg.grad.sum().item() == 4 * 2  # one gradient per window: torch's rule


def test_shakespeare_splits_are_disjoint(skip_unless_ci) -> None:
    from codesign.evaluators.accuracy import shakespeare as S

    try:
        test, calib = S.load_split("test"), S.load_split("calib")
    except ConfigError as exc:
        skip_unless_ci(str(exc))
    assert len(test) > 200_000 and len(calib) > 50_000
    assert test[:2000] not in S.load_split("train")
    with pytest.raises(ConfigError, match="split"):
        S.load_split("dev")


@pytest.mark.parametrize("argv, msg", [
    (["probe", "--workload", "nope", "--w-bits", "4", "--a-bits", "8"], "--workload"),
    (["probe", "--workload", "fmnist-cnn"], "--w-bits"),
    (["probe", "--workload", "fmnist-cnn", "--w-bits", "4", "--a-bits", "8", "--group", "48"], "group"),
])
def test_probe_cli_errors_are_one_line(argv: list[str], msg: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert msg in err and err.count("\n") == 1


def test_registered() -> None:
    from codesign.registry import REGISTRIES

    from codesign.builtins import register_builtins

    register_builtins()
    for kind, name in (("workload", "moe-shakespeare"), ("workload", "fmnist-cnn"), ("evaluator", "moe-probe"),
                       ("evaluator", "fmnist-probe"), ("evaluator", "minilm-probe")):
        assert name in REGISTRIES[kind]
