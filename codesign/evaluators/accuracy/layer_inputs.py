"""A quantizable layer's input seen as GEMM rows, without building more of it than needed.

A ``nn.Linear`` input ``[..., K]`` is ``M = Π leading dims`` rows of ``K``. A ``nn.Conv2d``
input ``[N, C, H, W]`` is the im2col matrix of its patches: row ``n·L + l`` (``l = p·Q + q``
over the ``P × Q`` output positions) is the ``C·R·S`` patch under output ``(p, q)``, in
``torch.nn.functional.unfold`` order (channel, kernel row, kernel column), zero padded.

- :func:`input_range` — min / max over every row **without unfolding**: the raw tensor's min /
  max, widened to contain 0 when a conv pads with zeros (padding enters its patches). Equal to
  the rows' range whenever every input pixel lies in some patch (stride ≤ kernel extent); a
  strided conv that skips pixels gets the (wider) range of its whole input;
- :func:`row_count` — ``N·P·Q`` (conv) or ``M`` (linear);
- :func:`sample_rows` — only the requested rows, gathered straight from the padded input
  (identical to indexing the full :func:`as_rows` matrix);
- :func:`as_rows` — the whole matrix (the hardware-exact path needs every row).
"""

from __future__ import annotations

from typing import Any

__all__ = ["as_rows", "input_range", "row_count", "sample_rows"]


def _is_conv(mod: Any) -> bool:
    import torch

    return isinstance(mod, torch.nn.Conv2d)


def _pads(mod: Any, x: Any) -> tuple[int, int]:
    """Zero padding ``(rows, cols)`` of a conv (``padding='same'`` resolved for stride 1)."""
    pad = mod.padding
    if isinstance(pad, str):
        if pad == "valid":
            return 0, 0
        return tuple(d * (k - 1) // 2 for d, k in zip(mod.dilation, mod.kernel_size))  # type: ignore[return-value]
    return int(pad[0]), int(pad[1])


def _out_size(mod: Any, x: Any) -> tuple[int, int]:
    ph, pw = _pads(mod, x)
    (kh, kw), (sh, sw), (dh, dw) = mod.kernel_size, mod.stride, mod.dilation
    h, w = x.shape[-2], x.shape[-1]
    return (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1, (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1


def row_count(mod: Any, x: Any) -> int:
    """Number of GEMM rows of the input ``x`` of ``mod``."""
    if _is_conv(mod):
        p, q = _out_size(mod, x)
        return int(x.shape[0]) * p * q
    return int(x.numel() // x.shape[-1]) if x.shape[-1] else 0


def input_range(mod: Any, x: Any) -> tuple[float, float]:
    """``(min, max)`` over every GEMM row of ``x`` (0 included when a conv zero-pads)."""
    lo, hi = float(x.min()), float(x.max())
    if _is_conv(mod) and any(_pads(mod, x)) and mod.padding_mode == "zeros":
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    return lo, hi


def sample_rows(mod: Any, x: Any, idx: Any) -> Any:
    """Rows ``idx`` (int array into ``[0, row_count)``) of the GEMM view, ``[len(idx), K]``."""
    import torch

    idx_t = torch.as_tensor(idx, dtype=torch.long)
    if not _is_conv(mod):
        return x.reshape(-1, x.shape[-1])[idx_t]
    ph, pw = _pads(mod, x)
    (kh, kw), (sh, sw), (dh, dw) = mod.kernel_size, mod.stride, mod.dilation
    p_out, q_out = _out_size(mod, x)
    xp = torch.nn.functional.pad(x, (pw, pw, ph, ph)) if ph or pw else x
    n, l = idx_t // (p_out * q_out), idx_t % (p_out * q_out)
    p, q = l // q_out, l % q_out
    c = torch.arange(x.shape[1])
    rr = (p * sh)[:, None] + torch.arange(kh) * dh  # [t, kh]
    cc = (q * sw)[:, None] + torch.arange(kw) * dw  # [t, kw]
    patch = xp[n[:, None, None, None], c[None, :, None, None], rr[:, None, :, None], cc[:, None, None, :]]
    return patch.reshape(len(idx_t), -1)


def as_rows(mod: Any, x: Any) -> Any:
    """The whole GEMM view ``[M, K]`` of a layer input (im2col patches for a conv)."""
    import torch

    if _is_conv(mod):
        cols = torch.nn.functional.unfold(x, mod.kernel_size, mod.dilation, mod.padding, mod.stride)
        return cols.transpose(1, 2).reshape(-1, cols.shape[1])
    return x.reshape(-1, x.shape[-1])
