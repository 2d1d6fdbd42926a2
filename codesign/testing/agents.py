"""Conformance suite for ask/tell agents, shipped so plugin authors can test their agents.

    from codesign.testing import check_agent
    check_agent("my-agent")                       # raises AssertionError on a violation

or, in pytest, subclass :class:`AgentTestCase` and set ``agent = "my-agent"``.

What is checked (the contract of :mod:`codesign.agents.base`):

1. ``ask(n)`` returns ``n`` :class:`Design` objects valid in the space's domain;
2. same seed and same tells give the same designs (reproducibility);
3. ``tell`` accepts complete, infeasible and failed records, in any order, and records of
   designs it never asked (replayed history);
4. a 40-evaluation ask/tell loop on a synthetic two-objective problem runs without error;
5. bad ``ask`` arguments raise ``ConfigError``;
6. the agent's module does not import ``codesign.evaluators`` / ``codesign.envs`` internals
   beyond what DESIGN.md allows (agents see evaluators only through a Problem).

An agent class may set ``conformance_kwargs`` (a dict of hyper-parameters) to run these checks
with cheaper settings (e.g. fewer GP fit iterations): the checks test the contract, not search
quality. Keyword arguments given to :func:`check_agent` override them.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from codesign.errors import ConfigError
from codesign.spaces.params import Bitwidth, Categorical, Ordinal, PowerOfTwo
from codesign.spaces.space import Constraint, Space
from codesign.types import Design, EvalRecord, EvalState, Metrics, Objective

OBJECTIVES = (Objective("quality", "max"), Objective("cost", "min"))


def conformance_space() -> Space:
    """A small mixed space: bit widths, a categorical, powers of two, an ordinal; one constraint."""
    return Space(
        [
            Bitwidth("w_bits.l0", "quant", 2, 8),
            Bitwidth("w_bits.l1", "quant", 2, 8),
            Categorical("pe_type", "hw", ("bit_parallel", "bit_serial", "lut")),
            PowerOfTwo("array_rows", "hw", 4, 64),
            PowerOfTwo("array_cols", "hw", 4, 64),
            Ordinal("clock_mhz", "hw", (200, 400, 800)),
        ],
        [Constraint("max_pes", "array_rows * array_cols <= 1024")],
        name="conformance",
    )


def synthetic_metrics(design: Design) -> Metrics:
    """A cheap, deterministic two-objective trade-off over :func:`conformance_space`."""
    bits = design["w_bits.l0"] + design["w_bits.l1"]
    pes = design["array_rows"] * design["array_cols"]
    pe_cost = {"bit_parallel": 1.0, "bit_serial": 0.4, "lut": 0.6}[design["pe_type"]]
    quality = 1.0 - np.exp(-bits / 6.0)
    cost = pe_cost * pes * bits / 16.0 + 2e4 / (pes * design["clock_mhz"])
    violations = {} if pes <= 1024 else {"space:max_pes": float(pes - 1024)}
    return Metrics({"quality": float(quality), "cost": float(cost)}, violations=violations)


def synthetic_record(design: Design, state: EvalState | None = None) -> EvalRecord:
    """The record of ``design`` on :func:`synthetic_metrics` (``state`` forces complete / infeasible / failed)."""
    m = synthetic_metrics(design)
    if state is None:
        state = EvalState.COMPLETE if m.feasible else EvalState.INFEASIBLE
    if state is EvalState.FAILED:
        return EvalRecord(design, Metrics(), state, error="synthetic failure")
    return EvalRecord(design, m, state)


AgentFactory = Callable[..., Any]


def _conformance_kwargs(factory: AgentFactory) -> dict[str, Any]:
    """The agent's cheaper settings for these checks (``conformance_kwargs``), if it declares any."""
    return dict(getattr(factory, "conformance_kwargs", None) or {})


def _factory(agent: str | AgentFactory) -> AgentFactory:
    if isinstance(agent, str):
        from codesign.registry import REGISTRIES

        return REGISTRIES["agent"].spec(agent).load()
    return agent


def check_agent(agent: str | AgentFactory, kwargs: dict[str, Any] | None = None, loop_budget: int = 40) -> None:
    """Run every conformance check on ``agent`` (a registered name or a factory)."""
    factory = _factory(agent)
    kw = {**_conformance_kwargs(factory), **dict(kwargs or {})}
    space = conformance_space()

    def make(seed: int = 0) -> Any:
        return factory(space=space, objectives=list(OBJECTIVES), seed=seed, **kw)

    check_ask(make(), space)
    check_reproducible(make, space)
    check_tell_states(make(), space)
    check_loop(make(), space, loop_budget)
    check_bad_ask(make())
    check_imports(factory)


def check_ask(a: Any, space: Space) -> None:
    for n in (1, 3):
        designs = a.ask(n)
        assert isinstance(designs, list) and len(designs) == n, f"ask({n}) returned {designs!r}"
        for d in designs:
            assert isinstance(d, Design), f"ask returned {type(d).__name__}, not Design"
            assert set(d) == set(space.names), f"design sets {sorted(d)}, space has {sorted(space.names)}"
            for p in space.params:
                assert p.contains(d[p.name]), f"{p.name}={d[p.name]!r} is outside its domain"
        a.tell([synthetic_record(d) for d in designs])


def _trajectory(a: Any, steps: int = 12) -> list[str]:
    keys = []
    for _ in range(steps):
        designs = a.ask(2)
        keys.extend(d.key for d in designs)
        a.tell([synthetic_record(d) for d in designs])
    return keys


def check_reproducible(make: Callable[[int], Any], space: Space) -> None:
    first, second = _trajectory(make(3)), _trajectory(make(3))
    assert first == second, "the same seed and tells must give the same designs"


def check_tell_states(a: Any, space: Space) -> None:
    designs = a.ask(3)
    recs = [synthetic_record(designs[0], EvalState.FAILED), synthetic_record(designs[1]), synthetic_record(designs[2])]
    a.tell(list(reversed(recs)))  # any order
    foreign = space.sample(np.random.default_rng(123))
    a.tell([synthetic_record(foreign)])  # a design it never asked
    big = Design({**space.sample(np.random.default_rng(7)).to_dict(), "array_rows": 64, "array_cols": 64})
    a.tell([synthetic_record(big, EvalState.INFEASIBLE)])
    assert len(a.ask(1)) == 1


def check_loop(a: Any, space: Space, budget: int) -> None:
    done = 0
    while done < budget:
        designs = a.ask(min(4, budget - done))
        a.tell([synthetic_record(d) for d in designs])
        done += len(designs)


def check_bad_ask(a: Any) -> None:
    for bad in (0, -1, 1.5, "2"):
        try:
            a.ask(bad)
        except ConfigError:
            continue
        raise AssertionError(f"ask({bad!r}) must raise ConfigError")


FORBIDDEN = ("codesign.evaluators.roofline", "codesign.evaluators.accuracy", "codesign.evaluators.cost",
             "codesign.rtl_sim", "codesign.results", "codesign.runner")


def check_imports(factory: AgentFactory) -> None:
    module = inspect.getmodule(factory)
    if module is None or not getattr(module, "__file__", None):
        return
    tree = ast.parse(inspect.getsource(module))
    for node in ast.walk(tree):
        names: Sequence[str] = ()
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            assert not name.startswith(FORBIDDEN), f"agent module {module.__name__} imports {name}"


class AgentTestCase:
    """pytest mixin: set ``agent`` (and optionally ``kwargs``) in a subclass named ``Test...``."""

    agent: str | AgentFactory = "random"
    kwargs: dict[str, Any] = {}

    def _make(self, seed: int = 0) -> Any:
        factory = _factory(self.agent)
        kw = {**_conformance_kwargs(factory), **self.kwargs}
        return factory(space=conformance_space(), objectives=list(OBJECTIVES), seed=seed, **kw)

    def test_ask(self) -> None:
        check_ask(self._make(), conformance_space())

    def test_reproducible(self) -> None:
        check_reproducible(self._make, conformance_space())

    def test_tell_states(self) -> None:
        check_tell_states(self._make(), conformance_space())

    def test_loop(self) -> None:
        check_loop(self._make(), conformance_space(), 40)

    def test_bad_ask(self) -> None:
        check_bad_ask(self._make())

    def test_imports(self) -> None:
        check_imports(_factory(self.agent))
