"""SCALE-Sim v2 systolic-array compute cycles (REFERENCES.md §2; ARM-software/SCALE-Sim).

A GEMM is folded onto an ``R × C`` array: the operand mapped to rows has ``S_r`` rows, the one
mapped to columns ``S_c``, each fold streams ``T`` steps. ``folds = ceil(S_r/R)·ceil(S_c/C)``;
per fold ``T + R + C − 2`` (output stationary) or ``2R + C + T − 2`` (weight / input
stationary); total ``folds · per_fold − 1``. GEMM ``Y[M,N] = X[M,K]·W[K,N]``:
os ``(S_r, S_c, T) = (M, N, K)``; ws ``(K, N, M)``; is ``(K, M, N)``.
"""

from __future__ import annotations

import math

from codesign.errors import ConfigError

DATAFLOWS = ("os", "ws", "is")


def systolic_cycles(dataflow: str, rows: int, cols: int, m: int, n: int, k: int) -> int:
    """Compute cycles of GEMM ``(m, n, k)`` on an ``rows × cols`` systolic array (SCALE-Sim v2)."""
    if dataflow not in DATAFLOWS:
        raise ConfigError(f"dataflow must be one of {DATAFLOWS}, but got {dataflow!r}")
    sr, sc, t = {"os": (m, n, k), "ws": (k, n, m), "is": (k, m, n)}[dataflow]
    folds = math.ceil(sr / rows) * math.ceil(sc / cols)
    per_fold = t + rows + cols - 2 if dataflow == "os" else 2 * rows + cols + t - 2
    return folds * per_fold - 1
