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

    def __init__(self, space: Space, objectives: Sequence[Objective | str], seed: int = 0, **sampler_kwargs: Any) -> None:
        super().__init__(space, objectives, seed)
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self._optuna = optuna
        self._dists = to_optuna(space)
        self.sampler_kwargs = dict(sampler_kwargs)
        self._study = optuna.create_study(
            directions=["minimize" if o.direction.value == "min" else "maximize" for o in self.objectives],
            sampler=self._make_sampler(self.seed, **sampler_kwargs),
        )
        self._pending: dict[str, list[Any]] = {}

    def _make_sampler(self, seed: int, **kwargs: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

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
        return {"name": self.name, "seed": self.seed, **self.sampler_kwargs}


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

    def __init__(self, space: Space, objectives: Sequence[Objective | str], seed: int = 0,
                 population_size: int = 20, mutation_prob: float | None = None, crossover_prob: float = 0.9) -> None:
        super().__init__(space, objectives, seed, population_size=population_size,
                         mutation_prob=mutation_prob, crossover_prob=crossover_prob)

    def _make_sampler(self, seed: int, **kwargs: Any) -> Any:
        return self._optuna.samplers.NSGAIISampler(seed=seed, **kwargs)


class GPAgent(OptunaAgent):
    """optuna's Gaussian-process sampler (``GPSampler``; multi-objective via log-EHVI in optuna,
    infeasible designs through the trial constraint the base class sets, which optuna 5's
    ``GPSampler`` models with its own constraint GP).

    Args:
        n_startup_trials: random designs before the GP is used (default 10).
        deterministic_objective: treat evaluations as noise-free (default True: evaluators are
            pure functions of the design).
    """

    name = "optuna-gp"
    # optuna's GP sampler costs ~1 s per trial on 2 cores; the conformance checks test the
    # contract with the GP used only in their 40-evaluation loop
    conformance_kwargs = {"n_startup_trials": 30}

    def __init__(self, space: Space, objectives: Sequence[Objective | str], seed: int = 0,
                 n_startup_trials: int = 10, deterministic_objective: bool = True) -> None:
        super().__init__(space, objectives, seed, n_startup_trials=n_startup_trials,
                         deterministic_objective=deterministic_objective)

    def _make_sampler(self, seed: int, **kwargs: Any) -> Any:
        return self._optuna.samplers.GPSampler(seed=seed, **kwargs)
