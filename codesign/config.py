"""Problem specs: a JSON-able description from which any process can rebuild a Problem.

A spec is ``{"problem": NAME | {"name", "kwargs"} | full problem mapping, "space": None |
NAME | {"name", "kwargs"}, "plugins": [FILE.py, ...]}``. The CLI builds its problem from one,
and process / Ray workers rebuild the same problem from the same spec (evaluators may hold
state that does not pickle).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from codesign.errors import ConfigError


def problem_spec(problem: Any = "digits-accel", space: Any = None, plugins: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    return {"problem": problem, "space": space, "plugins": list(plugins)}


def build_problem(spec: Mapping[str, Any], load_plugins: bool = True) -> Any:
    """Build the Problem a spec describes (loading its plugins first if asked)."""
    from codesign.evaluators.composite import build, problem_from_config
    from codesign.registry import REGISTRIES, load_plugin
    from codesign.spaces.space import Space

    if load_plugins:
        for plugin in spec.get("plugins") or []:
            load_plugin(plugin)
    entry = spec.get("problem", "digits-accel")
    if isinstance(entry, str):
        problem = REGISTRIES["problem"].make(entry)
    elif isinstance(entry, Mapping) and "name" in entry and set(entry) <= {"name", "kwargs"}:
        kwargs = entry.get("kwargs") or {}
        if not isinstance(kwargs, Mapping):
            raise ConfigError(f"problem kwargs must be a mapping, but got {kwargs!r}")
        problem = REGISTRIES["problem"].make(str(entry["name"]), **dict(kwargs))
    elif isinstance(entry, Mapping):
        problem = problem_from_config(entry)
    else:
        raise ConfigError(f"problem must be a name or a mapping, but got {entry!r}")
    if spec.get("space"):
        try:
            space = build("space", spec["space"], problem.workload)
        except TypeError as exc:  # e.g. a workload-based space for a problem without a workload
            wl = problem.workload.name if problem.workload is not None else "none"
            raise ConfigError(f"space {spec['space']!r} cannot be built for problem {problem.name!r} "
                              f"(its workload: {wl}): {exc}") from None
        if not isinstance(space, Space):
            raise ConfigError(f"space {spec['space']!r} must build a Space, but built {type(space).__name__}")
        problem = problem.with_space(space)
    return problem
