"""Mixed-precision allocation: an exact solver, not an evaluator.

Owns the multiple-choice knapsack of per-group bit allocation (HAWQ-V3's ILP, MxMoE's and
MC-MoE's per-expert allocation): groups (a layer, an expert, a linear block; tied members share
one choice), options per group (``w4a8``, ``w4g128``, named formats), a per-option loss, cost
tables, budgets on any table, side constraints over option indicators, and Pareto sweeps —
solved exactly with scipy's ``milp`` (HiGHS).

It imports only ``types``, ``errors``, ``spaces`` and ``workloads``: losses and costs come in as
arrays, mappings or callables, so the probes and the cost model feed it without being imported
by it (:mod:`codesign.evaluators.allocation_inputs` measures them for the project's models).

    >>> from codesign.allocation import allocate
    >>> a = allocate(layers=["fc1", "fc2"], options=["w4a8", "w8a8"],
    ...              loss={"fc1": [0.3, 0.01], "fc2": [0.05, 0.01]},
    ...              costs={"size_bytes": {"w4a8": [512, 2048], "w8a8": [1024, 4096]}},
    ...              budgets={"size_bytes": 3100})
    >>> a.choice
    {'fc1': 'w8a8', 'fc2': 'w4a8'}

Modules: :mod:`.options` (option names and formats), :mod:`.problem` (groups, tables, budgets),
:mod:`.expr` (side constraints), :mod:`.solver` (MILP, infeasibility, Pareto), :mod:`.workload`
(groups and size / BOPs tables of a Workload), :mod:`.config` (mappings / YAML),
:mod:`.reference` (published allocations reproduced, for ``codesign validate``).
"""

from __future__ import annotations

from codesign.allocation.config import allocate, build, run
from codesign.allocation.options import Option, parse_option
from codesign.allocation.problem import AllocationProblem, Budget, Group, SideConstraint, make_groups
from codesign.allocation.solver import Allocation, InfeasibleAllocation, pareto, score, solve
from codesign.allocation.workload import shape_table, workload_groups

__all__ = ["Allocation", "AllocationProblem", "Budget", "Group", "InfeasibleAllocation", "Option", "SideConstraint",
           "allocate", "build", "make_groups", "pareto", "parse_option", "run", "score", "shape_table", "solve",
           "workload_groups"]
