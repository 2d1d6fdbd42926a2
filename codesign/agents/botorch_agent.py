"""``botorch``: multi-objective Bayesian optimization with BoTorch, sized for 2 CPU cores.

Model: one ``SingleTaskGP`` per objective (a batched multi-output GP, Matérn-5/2 with ARD)
over the space's BoTorch box (:func:`codesign.spaces.convert.botorch_form.to_botorch` with
``onehot=True``: integers / powers of two (log2) / ordinals as index columns, categoricals as
one-hot blocks), inputs normalized to the unit cube, outputs standardized. Targets are
*maximization* values (``−sign · value``, BoTorch's convention).

Acquisition (``acquisition="auto"``, the default): ``qLogNEI`` (noisy expected improvement, log
form) for one objective — hypervolume needs two or more —, ``qLogNEHVI`` (noisy expected
hypervolume improvement, log form) for 2 or 3 objectives, ParEGO for 4 or more — one GP on a random
augmented-Chebyshev scalarization per pick, analytic log-EI, Kriging-believer fantasies for the
rest of a batch (:mod:`codesign.agents.parego`, which says why not BoTorch's ``qLogNParEGO``).
Why: NEHVI partitions the non-dominated region into boxes whose number grows steeply with the
number of objectives — with the default problem's 4 objectives and ~100 baseline points it cost
minutes per batch here — while ParEGO's cost does not depend on the number of objectives and it
still spreads over the front through its random weights. Either can be forced with
``acquisition="nehvi"`` / ``"parego"``.

Candidates (no relax-and-round): the acquisition scores a discrete candidate set with
``optimize_acqf_discrete`` (sequential greedy for ``q > 1``): every valid, not yet asked design
when the space has at most ``enumerate_limit`` points, otherwise ``n_candidates`` seeded
random valid designs plus ``n_local`` one-parameter neighbours of the current Pareto designs.
Candidates satisfy the space's constraints by construction.

Costs kept bounded: hyperparameters are warm-started from the previous fit and refit (L-BFGS,
``fit_maxiter`` iterations) only every ``refit_every`` asks — in between the GP is conditioned
on the new data with the old hyperparameters; the training set is capped at ``max_train``
points (every non-dominated point, then the most recent). :attr:`BotorchAgent.timings` holds
``fit_s``, ``acq_s``, ``n_train``, ``refit`` per iteration; ``describe()`` reports the means.

Constraints: space constraints by construction (candidates are valid); designs the problem
reports infeasible get a documented *penalty* target — the worst feasible value of each
objective minus 10% of its observed range — so the model learns to avoid them; failed
evaluations are dropped from the training set (and never asked again).

Initial design: ``n_init`` scrambled-Sobol points of the box, decoded to designs (a point that
breaks a constraint is replaced by a seeded random valid design).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from codesign.agents.base import Agent
from codesign.agents.parego import hyperparameters, parego_batch
from codesign.errors import ConfigError
from codesign.spaces.convert.botorch_form import to_botorch
from codesign.spaces.space import Space
from codesign.types import Design, EvalRecord, EvalState, Objective

ACQUISITIONS = ("auto", "ei", "nehvi", "parego")
PENALTY_MARGIN = 0.1
_HV_WARM = False


def warm_up_hypervolume() -> None:
    """Run one tiny qLogNEHVI so its one-time setup (kernel compilation, imports) is paid early."""
    global _HV_WARM
    if _HV_WARM:
        return
    import torch
    from botorch.acquisition.multi_objective.logei import qLogNoisyExpectedHypervolumeImprovement
    from botorch.models import SingleTaskGP

    X = torch.linspace(0, 1, 8, dtype=torch.float64).reshape(4, 2)
    model = SingleTaskGP(X, X.flip(0))
    acq = qLogNoisyExpectedHypervolumeImprovement(model, ref_point=[0.0, 0.0], X_baseline=X, prune_baseline=False)
    with torch.random.fork_rng():
        acq(X[:1].unsqueeze(0))
    _HV_WARM = True


class BotorchAgent(Agent):
    """Multi-objective BO (module docstring).

    Args:
        n_init: initial Sobol designs before the GP is used (default 10).
        acquisition: ``"auto"`` (default), ``"ei"`` (one objective), ``"nehvi"`` or ``"parego"``.
        n_candidates: random valid candidates scored per ask on large spaces (default 512).
        n_local: neighbours of Pareto designs added to the candidates (default 128).
        enumerate_limit: enumerate all valid designs as candidates up to this space size (default 5000).
        refit_every: refit hyperparameters every this many asks (default 3).
        fit_maxiter: L-BFGS iterations per fit (default 75).
        max_train: cap of the training set (default 200).
        mc_samples: QMC samples of the acquisition (default 64).
        torch_threads: torch intra-op threads (default 1; the machine is shared).
    """

    name = "botorch"
    conformance_kwargs = {"n_init": 8, "fit_maxiter": 20, "n_candidates": 128, "n_local": 32, "mc_samples": 16,
                          "refit_every": 4}

    def __init__(self, space: Space, objectives: Sequence[Objective | str], seed: int = 0, n_init: int = 10,
                 acquisition: str = "auto", n_candidates: int = 512, n_local: int = 128, enumerate_limit: int = 5000,
                 refit_every: int = 3, fit_maxiter: int = 75, max_train: int = 200, mc_samples: int = 64,
                 torch_threads: int | None = 1) -> None:
        super().__init__(space, objectives, seed)
        if acquisition not in ACQUISITIONS:
            raise ConfigError(f"acquisition must be one of {ACQUISITIONS}, but got {acquisition!r}")
        for label, value in (("n_init", n_init), ("n_candidates", n_candidates), ("refit_every", refit_every),
                             ("fit_maxiter", fit_maxiter), ("max_train", max_train), ("mc_samples", mc_samples)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{label} must be an integer >= 1, but got {value!r}")
        m = len(self.objectives)
        if acquisition in ("auto", "nehvi") and m == 1:
            acquisition = "ei"  # hypervolume is defined for two or more objectives
        if acquisition == "ei" and m > 1:
            raise ConfigError(f"acquisition 'ei' is for one objective, but the problem has {m}")
        self.acquisition = ("nehvi" if m <= 3 else "parego") if acquisition == "auto" else acquisition
        self.params = {"n_init": n_init, "acquisition": self.acquisition, "n_candidates": n_candidates,
                       "n_local": n_local, "enumerate_limit": enumerate_limit, "refit_every": refit_every,
                       "fit_maxiter": fit_maxiter, "max_train": max_train, "mc_samples": mc_samples}
        self.form = to_botorch(space, onehot=True)
        self.rng = np.random.default_rng([self.seed, 0xB0])
        self.torch_threads = torch_threads
        self._asked: set[str] = set()
        self._data: dict[str, tuple[Design, np.ndarray | None, bool]] = {}  # key -> design, max-values, feasible
        self._order: list[str] = []
        self._asks = 0
        self._hyper: dict[str, Any] | None = None
        self._all: list[Design] | None = None
        self.timings: list[dict[str, float]] = []
        self.fallbacks: dict[str, int] = {}  # reason -> count: every degraded step, in describe()
        if self.acquisition == "nehvi":
            warm_up_hypervolume()  # one-time setup of the hypervolume code paths, outside the timed loop

    # --- ask -----------------------------------------------------------------------------
    def _ask(self, n: int) -> list[Design]:
        usable = [k for k in self._order if self._data[k][1] is not None]
        if len(usable) < max(self.params["n_init"], 2):
            return self._initial(n)
        self._asks += 1
        try:
            return self._bo(n)
        except Exception as exc:  # numerical trouble: fall back to random, never stop the run
            if os.environ.get("CODESIGN_DEBUG"):
                raise
            import warnings

            reason = f"BO step failed ({type(exc).__name__}), random designs asked"
            self.fallbacks[reason] = self.fallbacks.get(reason, 0) + 1
            warnings.warn(f"botorch: acquisition failed ({type(exc).__name__}: {exc}); asking random designs")
            return [self._fresh_random() for _ in range(n)]

    def _initial(self, n: int) -> list[Design]:
        from scipy.stats import qmc

        sobol = qmc.Sobol(self.form.dim, scramble=True, seed=self.rng)
        pts = sobol.random(max(2, 1 << int(np.ceil(np.log2(n)))))[:n]
        lo, hi = self.form.bounds
        out = []
        for p in pts:
            d = self.form.decode(lo + p * (hi - lo))
            if d.key in self._asked or self.space.violations(d):
                d = self._fresh_random()
            self._asked.add(d.key)
            out.append(d)
        return out

    def _fresh_random(self) -> Design:
        for _ in range(50):
            d = self.space.sample(self.rng)
            if d.key not in self._asked:
                break
        self._asked.add(d.key)
        return d

    def _candidates(self, keep: Sequence[str]) -> list[Design]:
        if self.space.size <= self.params["enumerate_limit"]:
            if self._all is None:
                self._all = list(self.space.enumerate())
            cands = [d for d in self._all if d.key not in self._asked]
            if cands:
                return cands
        seen: set[str] = set(self._asked)
        cands = []
        for _ in range(self.params["n_candidates"]):
            d = self.space.sample(self.rng)
            if d.key not in seen:
                seen.add(d.key)
                cands.append(d)
        params = self.space.params
        for k in list(keep)[: self.params["n_local"]]:
            base = self._data[k][0]
            p = params[int(self.rng.integers(len(params)))]
            d = Design({**base.to_dict(), p.name: p.values[int(self.rng.integers(p.size))]})
            if d.key not in seen and not self.space.violations(d):
                seen.add(d.key)
                cands.append(d)
        return cands or [self.space.sample(self.rng)]

    def _training(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        keys = [k for k in self._order if self._data[k][1] is not None]
        Y = np.array([self._data[k][1] for k in keys], dtype=float)
        feas = np.array([self._data[k][2] for k in keys])
        if feas.any():
            worst, best = Y[feas].min(axis=0), Y[feas].max(axis=0)
            penalty = worst - PENALTY_MARGIN * np.where(best > worst, best - worst, 1.0)
            Y[~feas] = np.minimum(Y[~feas], penalty)
        front = _pareto_mask(Y) & feas
        cap = self.params["max_train"]
        if len(keys) > cap:
            chosen = list(np.flatnonzero(front))[:cap]
            rest = [i for i in range(len(keys) - 1, -1, -1) if not front[i]]
            chosen += rest[: cap - len(chosen)]
            idx = np.array(sorted(chosen))
            keys, Y, feas, front = [keys[i] for i in idx], Y[idx], feas[idx], front[idx]
        X = self.form.encode_many([self._data[k][0] for k in keys])
        return X, Y, [k for k, f in zip(keys, front) if f]

    def _bo(self, n: int) -> list[Design]:
        import torch

        if self.torch_threads:
            torch.set_num_threads(self.torch_threads)
        X, Y, front_keys = self._training()
        t0 = time.perf_counter()
        refit = self._hyper is None or self._asks % self.params["refit_every"] == 0
        if self.acquisition == "parego":  # one scalarized GP per pick, fitted inside (parego.py)
            fit_s, t1 = 0.0, t0
            cands = self._candidates(front_keys)
            picks, self._hyper = parego_batch(X, Y, self.form.encode_many(cands), n, self.rng, self._box(),
                                              self._hyper, refit, self.params["fit_maxiter"], self._fit_failed)
        else:
            model = self._model(torch.tensor(X), torch.tensor(Y), refit)
            fit_s = time.perf_counter() - t0
            t1 = time.perf_counter()
            cands = self._candidates(front_keys)
            Xc = torch.tensor(self.form.encode_many(cands))
            picks = self._acquire(model, torch.tensor(X), torch.tensor(Y), Xc, n)
        out = [cands[i] for i in picks]
        while len(out) < n:
            out.append(self._fresh_random())
        for d in out:
            self._asked.add(d.key)
        self.timings.append({"n_train": float(len(X)), "fit_s": fit_s, "acq_s": time.perf_counter() - t1,
                             "refit": float(refit), "n_candidates": float(len(cands))})
        return out

    def _model(self, X: Any, Y: Any, refit: bool) -> Any:
        import torch
        from botorch.fit import fit_gpytorch_mll
        from botorch.models import SingleTaskGP
        from botorch.models.transforms import Normalize, Standardize
        from gpytorch.mlls import ExactMarginalLogLikelihood

        torch.manual_seed(self.seed * 7919 + self._asks)
        bounds = torch.tensor(self._box())
        model = SingleTaskGP(X, Y, input_transform=Normalize(X.shape[-1], bounds=bounds),
                             outcome_transform=Standardize(Y.shape[-1]))
        if self._hyper is not None:
            model.load_state_dict(self._hyper, strict=False)
        if refit:
            mll = ExactMarginalLogLikelihood(model.likelihood, model)
            try:
                fit_gpytorch_mll(mll, optimizer_kwargs={"options": {"maxiter": self.params["fit_maxiter"]}})
            except Exception as exc:  # keep the warm-started hyperparameters, and say so
                self._fit_failed(exc)
            self._hyper = hyperparameters(model)
        model.eval()
        return model

    def _box(self) -> np.ndarray:
        """``(2, d)`` input bounds of the GP (single-valued parameters get a unit width)."""
        lo, hi = self.form.bounds
        return np.stack([lo, np.where(hi > lo, hi, lo + 1.0)])

    def _fit_failed(self, exc: BaseException) -> None:
        reason = f"GP fit failed ({type(exc).__name__}), warm-start hyperparameters kept"
        self.fallbacks[reason] = self.fallbacks.get(reason, 0) + 1

    def _acquire(self, model: Any, X: Any, Y: Any, Xc: Any, q: int) -> list[int]:
        import torch
        from botorch.optim import optimize_acqf_discrete
        from botorch.sampling import SobolQMCNormalSampler

        sampler = SobolQMCNormalSampler(torch.Size([self.params["mc_samples"]]), seed=self.seed * 7919 + self._asks)
        torch.manual_seed(self.seed * 7919 + self._asks)
        if self.acquisition == "ei":
            from botorch.acquisition.logei import qLogNoisyExpectedImprovement

            acq = qLogNoisyExpectedImprovement(model, X_baseline=X, sampler=sampler, prune_baseline=True,
                                               cache_root=False)
        elif self.acquisition == "nehvi":
            from botorch.acquisition.multi_objective.logei import qLogNoisyExpectedHypervolumeImprovement

            lo, hi = Y.min(dim=0).values, Y.max(dim=0).values
            ref = (lo - 0.1 * torch.where(hi > lo, hi - lo, torch.ones_like(lo))).tolist()
            acq = qLogNoisyExpectedHypervolumeImprovement(model, ref_point=ref, X_baseline=X, sampler=sampler,
                                                          prune_baseline=True, cache_root=False)
        else:
            from botorch.acquisition.multi_objective.parego import qLogNParEGO

            w = torch.tensor(self.rng.dirichlet(np.ones(Y.shape[-1])))
            acq = qLogNParEGO(model, X_baseline=X, scalarization_weights=w, sampler=sampler, prune_baseline=True,
                              cache_root=False)
        q = min(q, Xc.shape[0])
        chosen, _ = optimize_acqf_discrete(acq, q=q, choices=Xc, max_batch_size=1024, unique=True)
        rows = []
        for x in chosen:
            hit = torch.nonzero(torch.all(torch.isclose(Xc, x.unsqueeze(0)), dim=-1)).flatten()
            rows.append(int(hit[0]) if hit.numel() else 0)
        return list(dict.fromkeys(rows))

    # --- tell ----------------------------------------------------------------------------
    def _tell(self, records: list[EvalRecord]) -> None:
        for rec in records:
            key = rec.design.key
            self._asked.add(key)
            y = self.minimization_values(rec)
            if y is not None and not np.all(np.isfinite(y)):
                y = None
            if key not in self._data:
                self._order.append(key)
            if key in self._data and self._data[key][1] is not None and y is None:
                continue  # keep a good earlier evaluation of the same design
            self._data[key] = (rec.design, None if y is None else -y, rec.state is EvalState.COMPLETE)

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "seed": self.seed, **self.params}
        if self.timings:
            out["mean_fit_s"] = float(np.mean([t["fit_s"] for t in self.timings]))
            out["mean_acq_s"] = float(np.mean([t["acq_s"] for t in self.timings]))
            out["iterations"] = len(self.timings)
            out["mean_ask_s"] = float(np.mean([t["fit_s"] + t["acq_s"] for t in self.timings]))
        out["model_steps"] = len(self.timings)
        out["fallbacks"] = dict(self.fallbacks)
        return out


def _pareto_mask(Y: np.ndarray) -> np.ndarray:
    """Non-dominated rows of ``Y`` (maximization)."""
    n = Y.shape[0]
    mask = np.ones(n, dtype=bool)
    for i in range(n):
        if mask[i]:
            dominated = np.all(Y[i] >= Y, axis=1) & np.any(Y[i] > Y, axis=1)
            mask &= ~dominated
    return mask
