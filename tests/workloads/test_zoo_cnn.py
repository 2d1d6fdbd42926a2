"""CNN zoo workloads against published MAC / parameter figures and the digits-probe network."""

from __future__ import annotations

import pytest

from codesign.errors import WorkloadError
from codesign.workloads import Workload, conv, digits_cnn, gemm, mobilenetv2, resnet18

# torchvision model cards (num_params includes BatchNorm scale/shift; "GFLOPS" counts multiply-adds)
RESNET18_PARAMS = 11_689_512
RESNET18_GMAC = 1.81
MOBILENETV2_PARAMS = 3_504_872
MOBILENETV2_MMAC = 300  # Sandler et al. 2018, Table 4 (300M multiply-adds)
IMAGENET_CLASSES = 1000


def _conv_weights(w: Workload) -> int:
    return sum(l.weight_elems * l.count for l in w)


def _bn_params(w: Workload) -> int:
    """Every conv of both networks is followed by a BatchNorm with 2 learned params per channel."""
    return sum(2 * l.dims["M"] for l in w if l.op == "conv")


def test_digits_cnn_is_exactly_the_probe_network() -> None:
    w = digits_cnn(batch=3)
    assert [l.name for l in w] == ["conv1", "conv2", "fc1", "fc2"]
    assert w["conv1"] == conv("conv1", C=1, M=16, R=3, P=8, stride=1, B=3)
    assert w["conv2"] == conv("conv2", C=16, M=32, R=3, P=4, stride=2, B=3)
    assert w["fc1"] == gemm("fc1", M=3, N=64, K=512)
    assert w["fc2"] == gemm("fc2", M=3, N=10, K=64)
    # hand count: 8·8·16·9 + 4·4·32·16·9 + 512·64 + 64·10 MACs per image
    assert w.total_macs == 3 * (9216 + 73728 + 32768 + 640)


def test_resnet18_macs_and_params_match_published() -> None:
    w = resnet18()
    assert w.total_macs == pytest.approx(RESNET18_GMAC * 1e9, rel=0.01)
    assert _conv_weights(w) + _bn_params(w) + IMAGENET_CLASSES == RESNET18_PARAMS  # + fc bias
    assert sum(1 for l in w if "downsample" in l.name) == 3
    assert w["layer2.0.conv1"].stride == 2 and w["layer2.0.conv1"].dims["P"] == 28
    assert w["layer4.1.conv2"].dims["P"] == 7 and w["fc"].dims == {"M": 1, "N": 1000, "K": 512}


def test_mobilenetv2_macs_and_params_match_published() -> None:
    w = mobilenetv2()
    assert w.total_macs == pytest.approx(MOBILENETV2_MMAC * 1e6, rel=0.01)
    assert _conv_weights(w) + _bn_params(w) + IMAGENET_CLASSES == MOBILENETV2_PARAMS
    depthwise = [l for l in w if l.op == "conv" and l.groups > 1]
    assert len(depthwise) == 17 and all(l.groups == l.dims["C"] == l.dims["M"] for l in depthwise)
    assert [l.stride for l in depthwise].count(2) == 4


@pytest.mark.parametrize("factory", [digits_cnn, resnet18, mobilenetv2])
def test_batch_scales_macs_linearly(factory) -> None:
    assert factory(batch=4).total_macs == 4 * factory().total_macs
    assert Workload.from_dict(factory(batch=2).to_dict()) == factory(batch=2)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_bad_batch_is_a_workload_error(bad) -> None:
    with pytest.raises(WorkloadError, match="batch must be an integer >= 1"):
        resnet18(batch=bad)
