"""Learning checks: an agent must find structure that random search, with the same budget, does not.

:func:`needle_problem` is a separable problem with a needle: ``decisions`` parameters of
``choices`` values each (split over two subsystems, ``quant`` and ``hw``, so multi-agent RL has
two agents), one *target* value per parameter, and one objective to maximize,

    score(design) = (number of parameters at their target) / decisions      ∈ [0, 1]

so the optimum (score 1) is a single design among ``choices ** decisions`` and every
parameter's contribution is independent of the others: a learner that credits choices with the
reward they bring (a value per decision and choice, a factored policy, a tree with move
statistics) climbs to it, while uniform sampling finds ``k`` targets with probability
``C(d, k) (1/c)^k (1 − 1/c)^(d − k)`` per design — with 8 decisions of 6 choices, a design with
7 or more targets has probability 3.3e-5, so 200 random designs reach score >= 0.875 with
probability 0.7%.

:func:`best_scores` runs an agent ``seeds`` times for ``budget`` evaluations on it (in memory,
ask/tell or ``drive`` like the runner) and returns the best score of each run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from codesign.types import Design, EvalRecord, EvalState, Metrics, Objective


class NeedleEvaluator:
    """``score`` = fraction of parameters at their target value (module docstring)."""

    name, version, metrics = "needle", "1", ("score",)

    def __init__(self, targets: dict[str, Any]) -> None:
        self.targets = dict(targets)

    def evaluate(self, design: Design) -> Metrics:
        hits = sum(design[k] == v for k, v in self.targets.items())
        return Metrics({"score": hits / len(self.targets)})

    def evaluate_many(self, designs: Sequence[Design]) -> list[Metrics]:
        return [self.evaluate(d) for d in designs]


def needle_problem(decisions: int = 8, choices: int = 6) -> Any:
    """The separable needle problem of the module docstring (a :class:`Problem`)."""
    from codesign.evaluators.composite import Problem
    from codesign.spaces.params import Ordinal
    from codesign.spaces.space import Space

    params = [Ordinal(f"p{i}", "quant" if i < decisions // 2 else "hw", tuple(range(choices))) for i in range(decisions)]
    targets = {p.name: (3 * i + 1) % choices for i, p in enumerate(params)}  # not an end of every range
    return Problem("needle", Space(params, name="needle"), [NeedleEvaluator(targets)], [Objective("score", "max")],
                   bounds={"score": {"ideal": 1.0, "nadir": 0.0}})


class MemoryRecorder:
    """The part of the runner's recorder that agents use, in memory: ``remaining``,
    ``evaluate`` (records) and ``evaluate_metrics`` (for agents that own their loop)."""

    def __init__(self, problem: Any, budget: int) -> None:
        self.problem, self.budget = problem, budget
        self.records: list[EvalRecord] = []

    @property
    def remaining(self) -> int:
        return self.budget - len(self.records)

    def evaluate(self, designs: Sequence[Design]) -> list[EvalRecord]:
        out = [EvalRecord(d, m, EvalState.COMPLETE if m.feasible else EvalState.INFEASIBLE)
               for d, m in zip(designs, self.problem.evaluate_many(list(designs)))]
        self.records += out
        return out

    def evaluate_metrics(self, designs: Sequence[Design]) -> list[Metrics]:
        return [r.metrics for r in self.evaluate(designs)]


def best_scores(agent: str, problem: Any = None, budget: int = 200, seeds: Sequence[int] = (0, 1, 2),
                batch_size: int = 4, **kwargs: Any) -> list[float]:
    """Best ``score`` of each seeded run of ``agent`` on ``problem`` (default :func:`needle_problem`)."""
    import inspect

    from codesign.registry import REGISTRIES

    problem = problem if problem is not None else needle_problem()
    factory = REGISTRIES["agent"].spec(agent).load()
    extra = {"problem": problem} if "problem" in inspect.signature(factory).parameters else {}
    out = []
    for seed in seeds:
        a = REGISTRIES["agent"].make(agent, space=problem.space, objectives=list(problem.objectives), seed=seed,
                                     **extra, **kwargs)
        records = run_in_memory(a, problem, budget, batch_size)
        out.append(max(r.metrics.values["score"] for r in records))
    return out


def run_in_memory(agent: Any, problem: Any, budget: int, batch_size: int = 4) -> list[EvalRecord]:
    """Drive ``agent`` (an instance) for ``budget`` evaluations of ``problem`` the way the runner
    does (``drive`` first for agents that own their loop, then ask / tell), without a store."""
    mem = MemoryRecorder(problem, budget)
    if hasattr(agent, "drive"):
        agent.drive(mem)
    while mem.remaining > 0:
        agent.tell(mem.evaluate(agent.ask(min(batch_size, mem.remaining))))
    return mem.records[:budget]
