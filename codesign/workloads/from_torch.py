"""Trace a PyTorch module into a :class:`~codesign.workloads.layer.Workload` by forward hooks.

Recorded modules (in call order, named by their qualified names in ``module``):

- ``nn.Linear``: ``gemm`` with ``K = in_features``, ``N = out_features`` and ``M`` = the product
  of the input's leading dims (tokens, e.g. ``batch·seq`` for a ``[B, T, K]`` input).
- ``nn.Conv2d``: ``conv`` with ``B`` (1 for an unbatched input), ``C``, ``M``, ``R×S``, ``stride``,
  ``groups`` and ``P×Q`` read from the actual output (so padding and dilation are accounted for;
  padding, dilation and the input extent ``input_size`` are kept in ``tags``).
- ``nn.Conv1d``: ``conv`` with ``S = Q = 1`` (``R`` = kernel, ``P`` = output length).

Not recorded: activation-activation matmuls (``torch.matmul``, ``F.scaled_dot_product_attention``)
and weights used through functional calls (e.g. ``nn.MultiheadAttention.in_proj_weight``).
A module called several times with the same shape becomes one layer with ``count`` = calls;
calls with other shapes become ``f"{name}#{i}"``. Parameters and the input may live on the
``meta`` device: only shapes are read.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from codesign.errors import WorkloadError
from codesign.workloads.layer import Layer, Workload, conv, gemm


def _square(value: Any, what: str, name: str) -> int:
    vals = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if len(set(vals)) != 1:
        raise WorkloadError(f"layer {name!r}: {what} must be equal along both axes, but got {vals}")
    return int(vals[0])


def _linear_layer(name: str, mod: Any, x: Any) -> Layer:
    tokens = 1
    for d in x.shape[:-1]:
        tokens *= int(d)
    return gemm(name, M=max(1, tokens), N=mod.out_features, K=mod.in_features)


def _conv_layer(name: str, mod: Any, x: Any, y: Any, dims: int) -> Layer:
    batch = int(x.shape[0]) if x.dim() == dims + 2 else 1
    tags: dict[str, Any] = {"padding": mod.padding, "dilation": mod.dilation}
    if dims == 1:
        tags["input_size"] = {"P": int(x.shape[-1]), "Q": 1}
        return conv(name, C=mod.in_channels, M=mod.out_channels, R=mod.kernel_size[0], S=1, P=int(y.shape[-1]),
                    Q=1, stride=int(mod.stride[0]), groups=mod.groups, B=batch, tags=tags)
    kh, kw = mod.kernel_size
    tags["input_size"] = {"P": int(x.shape[-2]), "Q": int(x.shape[-1])}
    return conv(name, C=mod.in_channels, M=mod.out_channels, R=kh, S=kw, P=int(y.shape[-2]), Q=int(y.shape[-1]),
                stride=_square(mod.stride, "stride", name), groups=mod.groups, B=batch, tags=tags)


def from_torch(module: Any, example_input: Any, name: str = "traced") -> Workload:
    """Run ``module(example_input)`` once under ``torch.no_grad`` and record its Linear/Conv layers.

    Args:
        module: a ``torch.nn.Module``.
        example_input: a tensor, or a tuple of positional arguments for ``module``.
        name: the workload's name.

    Returns:
        A workload whose layer names are the modules' qualified names (see the module docstring).

    Raises:
        WorkloadError: ``module`` is not an ``nn.Module``, or it ran no Linear/Conv layer.
    """
    import torch  # lazy: torch is heavy
    from torch import nn

    if not isinstance(module, nn.Module):
        raise WorkloadError(f"from_torch needs a torch.nn.Module, but got {type(module).__name__}")
    calls: list[Layer] = []

    def hook_for(qualname: str) -> Any:
        def hook(mod: Any, args: tuple[Any, ...], out: Any) -> None:
            x = args[0]
            if isinstance(mod, nn.Linear):
                calls.append(_linear_layer(qualname, mod, x))
            elif isinstance(mod, nn.Conv2d):
                calls.append(_conv_layer(qualname, mod, x, out, 2))
            else:
                calls.append(_conv_layer(qualname, mod, x, out, 1))
        return hook

    handles = [m.register_forward_hook(hook_for(q or type(module).__name__))
               for q, m in module.named_modules() if isinstance(m, (nn.Linear, nn.Conv2d, nn.Conv1d))]
    args = example_input if isinstance(example_input, tuple) else (example_input,)
    try:
        with torch.no_grad():
            module(*args)
    finally:
        for h in handles:
            h.remove()
    if not calls:
        raise WorkloadError(f"from_torch needs a module that runs nn.Linear/nn.Conv1d/nn.Conv2d layers, "
                            f"but {type(module).__name__} ran none")
    return Workload(name, _merge(calls), {"source": "from_torch", "module": type(module).__name__,
                                          "input_shapes": [list(a.shape) for a in args if hasattr(a, "shape")]})


def _merge(calls: list[Layer]) -> list[Layer]:
    """Fold repeated calls of one module: same shape → ``count``; another shape → ``name#i``."""
    out: dict[str, Layer] = {}
    variants: dict[str, list[str]] = {}
    for layer in calls:
        keys = variants.setdefault(layer.name, [])
        for key in keys:
            if replace(out[key], count=1) == replace(layer, name=key):
                out[key] = replace(out[key], count=out[key].count + 1)
                break
        else:
            key = f"{layer.name}#{len(keys)}" if keys else layer.name
            keys.append(key)
            out[key] = replace(layer, name=key)
    return list(out.values())
