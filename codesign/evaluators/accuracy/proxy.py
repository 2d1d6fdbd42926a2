"""A cheap, additive accuracy proxy for a :class:`TorchProbe`, and its calibration against the real probe.

Proxy (Fisher-weighted layer-output error, second order; cf. HAWQ / BRECQ, REFERENCES §5): for
layer ``l`` with bits ``(w, a)``, on the calibration split only,

    Δy   = fq_a(X) · fq_w(W)ᵀ − X · Wᵀ          (X: a row sample of the layer's inputs)
    P_l  = ½ · Σ_j G_j · mean_rows(Δy_j²),      G_j = Σ_tokens (∂loss/∂y_j)²

(``G`` is the diagonal empirical Fisher of the layer's outputs, summed over the calibration
tokens; the loss is the probe's own training loss — cross-entropy). ``proxy(design) = Σ_l P_l``
estimates the calibration-loss increase in nats. Each ``P_l`` is cached per bit pair, so a
design costs microseconds once the table is filled.

The proxy never silently replaces the real probe: :class:`ProxyEvaluator` reports it under its
own metric name (``proxy_loss_increase``), and :meth:`ProxyEvaluator.remeasure` re-measures the
chosen (e.g. Pareto) designs with the real probe. :func:`calibrate` reports the Spearman and
Kendall rank correlations of the proxy against the real metric's degradation over random designs.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from codesign.evaluators.accuracy.probe import BitConfig, TorchProbe
from codesign.evaluators.base import BaseEvaluator
from codesign.spaces.builders import quant_keys
from codesign.types import Design, Metrics
from codesign.workloads.layer import Workload

__all__ = ["Proxy", "ProxyEvaluator", "calibrate", "random_designs"]


class Proxy:
    """The additive Fisher-weighted output-error proxy of ``probe`` (see module docstring)."""

    def __init__(self, probe: TorchProbe) -> None:
        self.probe = probe.load()
        t0 = time.perf_counter()
        self.fisher = self._fisher()
        self._table: dict[tuple[str, int, int], float] = {}
        self.setup_seconds = time.perf_counter() - t0

    def _fisher(self) -> dict[str, np.ndarray]:
        import torch

        probe = self.probe
        sums = {l.name: np.zeros(probe.orig_weights[l.name].shape[0]) for l in probe.layers}

        def hook_for(name: str) -> Any:
            def hook(mod: Any, args: tuple[Any, ...], out: Any) -> None:
                def add(g: Any) -> None:
                    sums[name] += _per_channel_sq(mod, g)

                if out.requires_grad:
                    out.register_hook(add)
            return hook

        handles = [probe.modules[n].register_forward_hook(hook_for(n)) for n in sums]
        try:
            with torch.enable_grad():
                for inputs, loss_fn in probe.loss_batches():
                    probe.model.zero_grad(set_to_none=True)
                    out = probe.model(*inputs) if isinstance(inputs, tuple) else probe.model(inputs)
                    loss_fn(out).backward()
        finally:
            for h in handles:
                h.remove()
            probe.model.zero_grad(set_to_none=True)
        return sums

    def layer_term(self, name: str, w_bits: int, a_bits: int) -> float:
        key = (name, w_bits, a_bits)
        if key not in self._table:
            probe = self.probe
            x = probe.calib_inputs[name].astype(np.float64)
            if x.shape[0] == 0:
                self._table[key] = 0.0
            else:
                w = probe.orig_weights[name].reshape(probe.orig_weights[name].shape[0], -1).double().numpy()
                wq = probe.weight_q(name, w_bits).fake_quant(w)
                xq = probe.act_q(name, a_bits).fake_quant(x)
                dy = xq @ wq.T - x @ w.T
                self._table[key] = float(0.5 * self.fisher[name] @ (dy**2).mean(axis=0))
        return self._table[key]

    def __call__(self, config: BitConfig) -> float:
        return sum(self.layer_term(l.name, *b) for l, b in zip(self.probe.layers, config) if b is not None)


def _per_channel_sq(mod: Any, g: Any) -> np.ndarray:
    """Σ over all but the channel dim of the squared output gradient."""
    import torch

    g = g.detach().double()
    if isinstance(mod, torch.nn.Conv2d):
        return (g**2).sum(dim=(0, 2, 3)).numpy()
    return (g**2).reshape(-1, g.shape[-1]).sum(dim=0).numpy()


class ProxyEvaluator(BaseEvaluator):
    """Explicit opt-in proxy evaluator: ``proxy_loss_increase`` (nats on the calibration split)."""

    metrics = ("proxy_loss_increase",)

    def __init__(self, probe: TorchProbe) -> None:
        self.probe, self.proxy = probe, Proxy(probe)
        self.name, self.version = f"{probe.name}-proxy", probe.version

    def param_use(self) -> Any:
        """The probe's bits (the proxy reads the same ``w_bits.<key>`` / ``a_bits.<key>``)."""
        return self.probe.param_use()

    def evaluate(self, design: Design) -> Metrics:
        return Metrics({"proxy_loss_increase": self.proxy(self.probe.bit_config(design))}, {"proxy": True})

    def evaluate_many(self, designs: Sequence[Design]) -> list[Metrics]:
        return [self.evaluate(d) for d in designs]

    def remeasure(self, designs: Sequence[Design]) -> list[Metrics]:
        """The real probe's metrics of ``designs`` (e.g. the chosen Pareto points)."""
        return self.probe.evaluate_many(designs)


def random_designs(workload: Workload, n: int, seed: int = 0, granularity: str = "layer",
                   w_choices: Sequence[int] = (2, 3, 4, 5, 6, 8), a_choices: Sequence[int] = (4, 5, 6, 8)) -> list[Design]:
    """``n`` random mixed-precision designs; each draws a floor and then bits per key above it."""
    rng = np.random.default_rng(seed)
    keys = sorted(set(quant_keys(workload, granularity).values()))
    out = []
    for _ in range(n):
        w_lo, a_lo = rng.integers(0, len(w_choices) - 1), rng.integers(0, len(a_choices))
        d: dict[str, int] = {}
        for k in keys:
            d[f"w_bits.{k}"] = int(w_choices[rng.integers(w_lo, len(w_choices))])
            d[f"a_bits.{k}"] = int(a_choices[rng.integers(a_lo, len(a_choices))])
        out.append(Design(d))
    return out


def calibrate(probe: TorchProbe, workload: Workload, n: int = 20, seed: int = 0,
              granularity: str = "layer", on_design: Any = None) -> dict[str, Any]:
    """Proxy vs. real degradation over ``n`` random designs: Spearman, Kendall, timings.
    ``on_design(i)`` is called after each design (progress display)."""
    from scipy.stats import kendalltau, spearmanr

    proxy = Proxy(probe)
    designs = random_designs(workload, n, seed, granularity)
    rows = []
    t_real = t_proxy = 0.0
    for d in designs:
        config = probe.bit_config(d)
        t0 = time.perf_counter()
        p = proxy(config)
        t1 = time.perf_counter()
        real = probe.measure_config(config)
        t_real += time.perf_counter() - t1
        t_proxy += t1 - t0
        rows.append({"proxy": p, "metric": real["values"][probe.primary],
                     "degradation": probe.degradation(real["values"][probe.primary])})
        if on_design is not None:
            on_design(len(rows))
    prox, deg = [r["proxy"] for r in rows], [r["degradation"] for r in rows]
    return {
        "probe": probe.name, "metric": probe.primary, "designs": n, "granularity": granularity, "seed": seed,
        "spearman": float(spearmanr(prox, deg).statistic), "kendall": float(kendalltau(prox, deg).statistic),
        "float": probe.float_result["values"][probe.primary], "proxy_setup_s": proxy.setup_seconds,
        "proxy_s_per_design": t_proxy / n, "real_s_per_design": t_real / n, "rows": rows,
    }
