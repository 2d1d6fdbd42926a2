"""HAQ-style state features of the decisions of a sequence form (for :class:`LayerwiseEnv`).

Every decision gets one float32 vector in ``[0, 1]`` of fixed length ``17 + 2·S`` (``S`` = number
of subsystems of the space)::

    0   layer        1 if the decision sets bits of a workload layer (``w_bits.<key>`` /
                     ``a_bits.<key>``), else 0; columns 2–12 are 0 when this is 0
    1   position     decision index t / (T − 1)
    2   layer index  index of the layer in the workload / (L − 1)
    3   conv         1 for a (non-depthwise) convolution
    4   gemm         1 for a GEMM / linear layer
    5   depthwise    1 for a depthwise convolution (groups == C == M > 1)
    6   c_in         C (conv) or K (gemm), log-normalized
    7   c_out        M (conv) or N (gemm), log-normalized
    8   stride       log-normalized
    9   kernel       R (conv) or 1 (gemm), log-normalized
    10  params       weight elements, log-normalized
    11  input size   input activation elements, log-normalized
    12  w/a          1 for weight bits, 0 for activation bits
    13  prev action  the previous decision's chosen index / (n − 1); 0 at the first decision
    14  choices      number of choices n_t / max_t n_t
    15  MACs         multiply-accumulates of the layer (× its repeat count), log-normalized
    16  sensitivity  the layer's quantization sensitivity / the largest one, when an evaluator
                     of the problem offers ``layer_sensitivity() -> {layer name: value >= 0}``
                     (e.g. a Fisher-weighted output error, REFERENCES §5); 0 otherwise
    17…17+S−1        subsystem: one-hot of the decision's subsystem, in ``space.subsystems`` order
    17+S…17+2S−1     progress: per subsystem, the mean normalized index (index / (n − 1)) of
                     the decisions already taken in it, 0 before any — what the rest of the
                     design depends on (how many bits, how large an array so far)

Log-normalized means ``log(1 + x) / max log(1 + x)`` over this sequence's layer decisions
(HAQ normalizes every feature to [0, 1] over the layers). ``<key>`` is looked up as a layer
name, an MoE expert group (:func:`~codesign.spaces.builders.expert_group`) or ``all``; the
features are those of the first workload layer the key covers. Column 13 and the progress
columns are filled in by the environment (:data:`PREV_ACTION`, :func:`progress`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from codesign.spaces.builders import expert_group

if TYPE_CHECKING:  # pragma: no cover
    from codesign.spaces.convert.sequence import SequenceForm
    from codesign.workloads.layer import Layer, Workload

NUM_FIXED = 17
PREV_ACTION = 13
MACS, SENSITIVITY = 15, 16
_LOG_COLS = [6, 7, 8, 9, 10, 11, MACS]
_PREFIXES = {"w_bits.": 1.0, "a_bits.": 0.0}


def _layer_of(name: str, workload: Workload | None) -> tuple[int, Layer, float] | None:
    """``(layer index, layer, w/a flag)`` of a bits decision, or None."""
    if workload is None:
        return None
    for prefix, wa in _PREFIXES.items():
        if name.startswith(prefix):
            key = name[len(prefix):]
            for i, layer in enumerate(workload.layers):
                if key in ("all", layer.name) or (layer.quantizable and key == expert_group(layer)):
                    return i, layer, wa
    return None


def _raw_layer_features(layer: Layer) -> list[float]:
    """Unnormalized ``[conv, gemm, depthwise, c_in, c_out, stride, kernel, params, input]``."""
    d = layer.dims
    if layer.op == "conv":
        depthwise = layer.groups > 1 and layer.groups == d["C"] == d["M"]
        return [float(not depthwise), 0.0, float(depthwise), d["C"], d["M"], layer.stride, d["R"],
                layer.weight_elems, layer.input_elems]
    _, n, k = layer.gemm_shape
    return [0.0, 1.0, 0.0, k, n, 1, 1, layer.weight_elems, layer.input_elems]


def decision_features(form: SequenceForm, workload: Workload | None,
                      sensitivity: dict[str, float] | None = None) -> np.ndarray:
    """Static features of every decision (column 13 and progress left 0), float32, shape
    ``(T, 17 + 2·S)``; ``sensitivity``: ``{layer name: value >= 0}`` (column 16)."""
    subsystems = list(form.space.subsystems)
    top = max((v for v in (sensitivity or {}).values() if np.isfinite(v)), default=0.0)
    num_layers = len(workload.layers) if workload is not None else 1
    steps = len(form)
    max_choices = max(form.max_choices, 1)
    out = np.zeros((steps, NUM_FIXED + 2 * len(subsystems)), dtype=np.float64)
    for t, dec in enumerate(form.decisions):
        out[t, 1] = t / max(steps - 1, 1)
        out[t, 14] = dec.size / max_choices
        out[t, NUM_FIXED + subsystems.index(dec.subsystem)] = 1.0
        found = _layer_of(dec.name, workload)
        if found is not None:
            i, layer, wa = found
            out[t, 0] = 1.0
            out[t, 2] = i / max(num_layers - 1, 1)
            out[t, 3:12] = _raw_layer_features(layer)
            out[t, 12] = wa
            out[t, MACS] = layer.macs * layer.count
            if top > 0:
                out[t, SENSITIVITY] = max(float((sensitivity or {}).get(layer.name, 0.0)), 0.0) / top
    logs = np.log1p(out[:, _LOG_COLS])
    peak = logs.max(axis=0)
    out[:, _LOG_COLS] = np.where(peak > 0, logs / np.where(peak > 0, peak, 1.0), 0.0)
    return out.astype(np.float32)


def progress(form: SequenceForm, prefix: list[int]) -> np.ndarray:
    """The progress columns for ``prefix``: per subsystem, the mean of ``index / (n − 1)`` of
    the decisions taken in it (0 where none), float32, shape ``(S,)``."""
    subsystems = list(form.space.subsystems)
    total, count = np.zeros(len(subsystems)), np.zeros(len(subsystems))
    for dec, i in zip(form.decisions, prefix):
        k = subsystems.index(dec.subsystem)
        total[k] += i / max(dec.size - 1, 1)
        count[k] += 1
    return np.where(count > 0, total / np.maximum(count, 1), 0.0).astype(np.float32)


def layer_sensitivity(problem: object) -> dict[str, float] | None:
    """``{layer: sensitivity}`` from the first evaluator of ``problem`` that offers
    ``layer_sensitivity()``, else None."""
    for ev in getattr(problem, "evaluators", ()):
        get = getattr(ev, "layer_sensitivity", None)
        if callable(get):
            return {str(k): float(v) for k, v in dict(get()).items()}
    return None
