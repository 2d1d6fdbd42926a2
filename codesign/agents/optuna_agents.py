"""Agents backed by optuna samplers: ``tpe`` (multi-objective TPE) and ``nsga2`` (NSGA-II).

The agent keeps a private in-memory optuna study as its sampler state; the run's own record
is written by the runner through the one recording path (the store), not here. Infeasible
designs are passed to the samplers as constraint values (optuna's ``Trial.set_constraint``),
failed evaluations as failed trials.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from codesign.agents.base import Agent
from codesign.spaces.convert.optuna_dists import optuna_decode, optuna_encode, to_optuna
from codesign.spaces.space import Space
from codesign.types import Design, EvalRecord, EvalState, Objective

_VIOLATION = "violation"

class OptunaAgent(Agent):
    """Ask/tell over an optuna sampler (subclasses choose the sampler)."""

    name = "optuna"
    independent_is_fallback = True  # False where independent sampling is the algorithm (NSGA-II's mutation)

    def __init__(self, space: Space, objectives: Sequence[Objective | str], seed: int = 0, **sampler_kwargs: Any) -> None:
        super().__init__(space, objectives, seed)
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self._optuna = optuna
        self._dists = to_optuna(space)
        self.sampler_kwargs = dict(sampler_kwargs)
        sampler = self._make_sampler(self.seed, **sampler_kwargs)
        self._watch(sampler)
        self._study = optuna.create_study(
            directions=["minimize" if o.direction.value == "min" else "maximize" for o in self.objectives],
            sampler=sampler,
        )
        self._pending: dict[str, list[Any]] = {}

    def _make_sampler(self, seed: int, **kwargs: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _watch(self, sampler: Any) -> None:
        """Count the sampler's model steps (``sample_relative`` returning values) and its
        independent draws once its model is in use (optuna's silent fallback for parameters
        outside the model), for ``describe()``."""
        self.model_steps = 0
        self.fallbacks: dict[str, int] = {}
        relative, independent = sampler.sample_relative, sampler.sample_independent

        def sample_relative(study: Any, trial: Any, search_space: Any) -> Any:
            out = relative(study, trial, search_space)
            self.model_steps += bool(out)
            return out

        def sample_independent(study: Any, trial: Any, name: str, dist: Any) -> Any:
            if self.model_steps and self.independent_is_fallback:
                reason = f"parameter {name!r} sampled independently (outside the sampler's model)"
                self.fallbacks[reason] = self.fallbacks.get(reason, 0) + 1
            return independent(study, trial, name, dist)

        sampler.sample_relative, sampler.sample_independent = sample_relative, sample_independent

    def _ask(self, n: int) -> list[Design]:
        out = []
        for _ in range(n):
            trial = self._study.ask(self._dists)
            design = optuna_decode(self.space, trial.params)
            self._pending.setdefault(design.key, []).append(trial)
            out.append(design)
        return out

    def _tell(self, records: list[EvalRecord]) -> None:
        TrialState = self._optuna.trial.TrialState
        for rec in records:
            violation = float(sum(rec.metrics.violations.values())) if rec.state is EvalState.INFEASIBLE else 0.0
            failed = rec.state is EvalState.FAILED or not rec.metrics.all_finite([o.name for o in self.objectives])
            values = None if failed else rec.metrics.objective_values(self.objectives)
            pending = self._pending.get(rec.design.key)
            if pending:
                trial = pending.pop(0)
                if failed:
                    self._study.tell(trial, state=TrialState.FAIL)
                else:
                    trial.set_constraint(_VIOLATION, violation)
                    self._study.tell(trial, values)
                continue
            # a record this agent did not ask for (history replayed on resume)
            try:
                params = optuna_encode(self.space, rec.design)
            except Exception:
                continue
            self._study.add_trial(self._optuna.trial.create_trial(
                state=TrialState.FAIL if failed else TrialState.COMPLETE, values=values, params=params,
                distributions={k: self._dists[k] for k in params},
                constraints=None if failed else {_VIOLATION: violation},
            ))

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "seed": self.seed, **self.sampler_kwargs, "model_steps": self.model_steps,
                "fallbacks": dict(self.fallbacks)}


class TPEAgent(OptunaAgent):
    """Multi-objective TPE (optuna ``TPESampler``, multivariate) with constraint handling.

    Args:
        n_startup_trials: random designs before TPE modelling starts (default 10).
        multivariate: model parameters jointly (default True).
    """

    name = "tpe"

    def __init__(self, space: Space, objectives: Sequence[Objective | str], seed: int = 0,
                 n_startup_trials: int = 10, multivariate: bool = True) -> None:
        super().__init__(space, objectives, seed, n_startup_trials=n_startup_trials, multivariate=multivariate)

    def _make_sampler(self, seed: int, **kwargs: Any) -> Any:
        return self._optuna.samplers.TPESampler(seed=seed, **kwargs)


class NSGA2Agent(OptunaAgent):
    """NSGA-II (optuna ``NSGAIISampler``) with constrained domination.

    Args:
        population_size: designs per generation (default 20).
        mutation_prob: per-parameter mutation probability (default 1/number of parameters).
        crossover_prob: probability of crossover (default 0.9).
    """

    name = "nsga2"
    independent_is_fallback = False

    def __init__(self, space: Space, objectives: Sequence[Objective | str], seed: int = 0,
                 population_size: int = 20, mutation_prob: float | None = None, crossover_prob: float = 0.9) -> None:
        super().__init__(space, objectives, seed, population_size=population_size,
                         mutation_prob=mutation_prob, crossover_prob=crossover_prob)

    def _make_sampler(self, seed: int, **kwargs: Any) -> Any:
        return self._optuna.samplers.NSGAIISampler(seed=seed, **kwargs)


class GPAgent(OptunaAgent):
    """optuna's Gaussian-process sampler (``GPSampler``; multi-objective via log-EHVI in optuna,
    infeasible designs through the trial constraint the base class sets, which optuna 5's
    ``GPSampler`` models with its own constraint GP), configured for its cost.

    Cost: optuna's defaults optimize the acquisition from ``2048`` preliminary samples with
    ``10`` local searches and ``128`` QMC samples per EHVI evaluation; with 4 objectives the
    EHVI box decomposition of the front multiplies every evaluation, and a trial took 6.5–22 s
    here with those defaults. The agent sets the sampler's acquisition-optimizer knobs (the ones
    optuna documents as overridable by advanced users: ``_n_preliminary_samples``, ``_n_local_search``,
    ``_n_qmc_samples_ehvi``) to ``n_preliminary_samples`` / ``n_local_search`` /
    ``n_qmc_samples`` and reports the measured seconds per ask in ``describe()``
    (``ask_s_mean``, ``ask_s_last``); at start it warns with its expected cost
    (:data:`EXPECTED_ASK_S`, measured on this project's 2-core reference machine).

    Args:
        n_startup_trials: random designs before the GP is used (default 10).
        deterministic_objective: treat evaluations as noise-free (default True: evaluators are
            pure functions of the design).
        n_preliminary_samples: random points scoring the acquisition before local search
            (default 256; optuna 2048).
        n_local_search: local searches from the best preliminary points (default 2; optuna 10).
        n_qmc_samples: QMC samples of the EHVI integral (default 32; optuna 128).
    """

    name = "optuna-gp"
    # the conformance checks test the contract with the GP used only in their 40-evaluation loop
    conformance_kwargs = {"n_startup_trials": 30}

    def __init__(self, space: Space, objectives: Sequence[Objective | str], seed: int = 0,
                 n_startup_trials: int = 10, deterministic_objective: bool = True, n_preliminary_samples: int = 256,
                 n_local_search: int = 2, n_qmc_samples: int = 32) -> None:
        self.knobs = {"_n_preliminary_samples": int(n_preliminary_samples), "_n_local_search": int(n_local_search),
                      "_n_qmc_samples_ehvi": int(n_qmc_samples), "_n_qmc_samples_qei": int(n_qmc_samples)}
        super().__init__(space, objectives, seed, n_startup_trials=n_startup_trials,
                         deterministic_objective=deterministic_objective)
        self.ask_s: list[float] = []
        import warnings

        m = len(self.objectives)
        warnings.warn(f"optuna-gp: expect up to about {EXPECTED_ASK_S} s per design asked after {n_startup_trials} "
                      f"random ones, growing with the observations ({m} objectives here; measured with 4 at 200 "
                      f"observations on 2 cores, fewer cost less); TPE costs ~0.02 s", stacklevel=2)

    def _make_sampler(self, seed: int, **kwargs: Any) -> Any:
        sampler = self._optuna.samplers.GPSampler(seed=seed, **kwargs)
        missing = [k for k in self.knobs if not hasattr(sampler, k)]
        if missing:
            from codesign.errors import ConfigError

            raise ConfigError(f"optuna-gp: this optuna ({self._optuna.__version__}) GPSampler lacks the cost knobs "
                              f"{missing}; the agent is configured for optuna 5.x")
        for k, v in self.knobs.items():
            setattr(sampler, k, v)
        return sampler

    def _ask(self, n: int) -> list[Design]:
        import time

        t0 = time.perf_counter()
        out = super()._ask(n)
        self.ask_s.append((time.perf_counter() - t0) / n)
        return out

    def describe(self) -> dict[str, Any]:
        out = {**super().describe(), **{k.lstrip("_"): v for k, v in self.knobs.items()}}
        if self.ask_s:
            out.update(ask_s_mean=sum(self.ask_s) / len(self.ask_s), ask_s_last=self.ask_s[-1])
        return out


# seconds per asked design at 200 observations with the defaults above and 4 objectives (EHVI's box
# decomposition makes fewer objectives cheaper), rounded up from the 1.46 and 1.60 s two runs of
# `codesign bench agents --overhead` measured (docs/results/agents-overhead-digits-accel.md)
EXPECTED_ASK_S = 1.6
