"""codesign.workloads: layers and workloads as shapes, the model zoo, and tracing from PyTorch.

``from_torch`` is importable from here without importing torch (torch loads on first call).
"""

from __future__ import annotations

from codesign.workloads.from_torch import from_torch
from codesign.workloads.layer import Layer, Workload, attn, conv, gemm
from codesign.workloads.zoo import (
    deepseek_v2_lite,
    digits_cnn,
    llama2_7b,
    mixtral_8x7b,
    mobilenetv2,
    olmoe_1b_7b,
    qwen15_moe_a27b,
    resnet18,
)

__all__ = [
    "Layer", "Workload", "gemm", "conv", "attn", "from_torch",
    "digits_cnn", "resnet18", "mobilenetv2", "llama2_7b", "mixtral_8x7b", "deepseek_v2_lite",
    "qwen15_moe_a27b", "olmoe_1b_7b",
]
