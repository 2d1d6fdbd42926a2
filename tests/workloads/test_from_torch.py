"""from_torch: traced workloads equal the zoo's hand-written ones for independent torch models."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from codesign.errors import WorkloadError  # noqa: E402
from codesign.workloads import conv, from_torch, gemm, mobilenetv2, resnet18  # noqa: E402
from codesign.workloads.zoo import digits_cnn  # noqa: E402


class DigitsCNN(nn.Module):
    """The digits accuracy-probe network, written independently of the zoo."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, stride=2, padding=1)
        self.fc1 = nn.Linear(512, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = torch.relu(self.conv2(torch.relu(self.conv1(x))))
        return self.fc2(torch.relu(self.fc1(x.flatten(1))))


class BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        y = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNet18(nn.Module):
    """He et al. 2016 Table 1, with torchvision's module names."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        widths, c_in = (64, 128, 256, 512), 64
        for i, c in enumerate(widths, start=1):
            setattr(self, f"layer{i}", nn.Sequential(BasicBlock(c_in, c, 1 if i == 1 else 2), BasicBlock(c, c, 1)))
            c_in = c
        self.fc = nn.Linear(512, 1000)

    def forward(self, x):
        x = self.maxpool(torch.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(x.mean((2, 3)))


def _cbr(c_in: int, c_out: int, k: int, stride: int = 1, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, k, stride, k // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(c_out), nn.ReLU6())


class InvertedResidual(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int, t: int) -> None:
        super().__init__()
        h = c_in * t
        layers = ([] if t == 1 else [_cbr(c_in, h, 1)]) + [_cbr(h, h, 3, stride, h),
                                                           nn.Conv2d(h, c_out, 1, bias=False), nn.BatchNorm2d(c_out)]
        self.conv = nn.Sequential(*layers)
        self.res = stride == 1 and c_in == c_out

    def forward(self, x):
        return x + self.conv(x) if self.res else self.conv(x)


class MobileNetV2(nn.Module):
    """Sandler et al. 2018 Table 2, with torchvision's module names."""

    def __init__(self) -> None:
        super().__init__()
        feats, c_in = [_cbr(3, 32, 3, 2)], 32
        for t, c, n, s in ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                           (6, 160, 3, 2), (6, 320, 1, 1)):
            for i in range(n):
                feats.append(InvertedResidual(c_in, c, s if i == 0 else 1, t))
                c_in = c
        feats.append(_cbr(c_in, 1280, 1))
        self.features = nn.Sequential(*feats)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, 1000))

    def forward(self, x):
        return self.classifier(self.features(x).mean((2, 3)))


def _layers(w):
    return list(w.layers)


def test_digits_cnn_traces_to_the_zoo_workload() -> None:
    w = from_torch(DigitsCNN(), torch.zeros(5, 1, 8, 8), name="digits-cnn")
    assert _layers(w) == _layers(digits_cnn(batch=5))


@pytest.mark.parametrize("model, zoo, params", [(ResNet18, resnet18, 11_689_512),
                                                (MobileNetV2, mobilenetv2, 3_504_872)])
def test_imagenet_models_trace_to_the_zoo_workloads(model, zoo, params) -> None:
    with torch.device("meta"):  # shapes only: no weight init, no compute
        net, x = model(), torch.empty(2, 3, 224, 224)
    assert sum(p.numel() for p in net.parameters()) == params  # the test model is the published one
    assert _layers(from_torch(net, x)) == _layers(zoo(batch=2))


def test_small_residual_block() -> None:
    w = from_torch(BasicBlock(8, 16, 2), torch.zeros(1, 8, 10, 10))
    assert [l.name for l in w] == ["conv1", "conv2", "downsample.0"]
    assert w["conv1"] == conv("conv1", C=8, M=16, R=3, P=5, stride=2)
    assert w["downsample.0"] == conv("downsample.0", C=8, M=16, R=1, P=5, stride=2)
    assert w["conv1"].tags["padding"] == (1, 1)


def test_linear_tokens_conv1d_grouped_and_repeated_calls() -> None:
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.proj = nn.Linear(12, 12)
            self.dw = nn.Conv1d(12, 12, 5, stride=2, padding=2, groups=12)

        def forward(self, x):  # x: [B, T, 12]
            x = self.proj(self.proj(x))
            y = self.dw(x.transpose(1, 2))
            return self.proj(y.transpose(1, 2))

    w = from_torch(Net(), torch.zeros(3, 7, 12), name="net")
    assert w.name == "net" and w["proj"] == gemm("proj", M=21, N=12, K=12, count=2)
    assert w["dw"] == conv("dw", C=12, M=12, R=5, S=1, P=4, Q=1, stride=2, groups=12, B=3)
    assert w["proj#1"].dims["M"] == 12


def test_module_without_linear_or_conv_is_a_one_line_error() -> None:
    with pytest.raises(WorkloadError, match="ran none") as info:
        from_torch(nn.Sequential(nn.ReLU(), nn.Identity()), torch.zeros(2, 3))
    assert "\n" not in str(info.value)
    with pytest.raises(WorkloadError, match="needs a torch.nn.Module"):
        from_torch(lambda x: x, torch.zeros(1))


def test_non_square_stride_is_rejected() -> None:
    with pytest.raises(WorkloadError, match="stride must be equal along both axes"):
        from_torch(nn.Conv2d(1, 1, 3, stride=(1, 2)), torch.zeros(1, 1, 8, 8))
