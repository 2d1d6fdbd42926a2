"""The CodesignError hierarchy.

Every error a user can cause derives from :class:`CodesignError`; the CLI turns those into a
single line on stderr and exit code 2. Messages say what must hold and what was given.
Nothing here imports anything else from codesign.
"""

from __future__ import annotations


class CodesignError(Exception):
    """Base class of every error codesign raises on purpose."""


class ConfigError(CodesignError, ValueError):
    """A configuration (YAML, CLI argument, keyword argument) is malformed or out of range."""


class RegistryError(CodesignError, KeyError):
    """A name is not registered (the message suggests close matches)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class SpaceError(CodesignError, ValueError):
    """A space or a design is malformed: unknown parameter, value out of its domain, ..."""


class WorkloadError(CodesignError, ValueError):
    """A workload or layer description is malformed."""


class InfeasibleDesign(CodesignError):
    """Raised only where a caller asked for an exception; evaluators report infeasibility
    as :attr:`codesign.types.Metrics.violations` instead."""


class EvaluationError(CodesignError, RuntimeError):
    """An evaluator failed on a design (recorded as a failed evaluation, the search goes on)."""


class StoreError(CodesignError):
    """The results store cannot be opened, read or written as asked."""


class ParameterWarning(UserWarning):
    """A space has parameters that no evaluator of its problem reads (``--strict`` makes it an error)."""


class MissingExtra(ConfigError):
    """An optional dependency is not installed; the message names the extra that installs it."""


#: top-level import name of an optional package -> the extra of ``pyproject.toml`` that installs it
EXTRAS = {
    "botorch": "bo", "gpytorch": "bo",
    "gymnasium": "rl", "pettingzoo": "rl", "stable_baselines3": "rl",
    "amaranth": "rtl",
    "dash": "dashboard", "plotly": "dashboard", "dash_ag_grid": "dashboard",
    "ray": "distributed", "psycopg2": "distributed",
    "pandas": "notebook",
    "matplotlib": "plots",
}


def missing_extra(exc: ModuleNotFoundError, feature: str = "this command") -> MissingExtra | None:
    """The one-line :class:`MissingExtra` for an import of an optional package that failed, or
    None when the missing module is not one of :data:`EXTRAS`."""
    root = (exc.name or "").split(".")[0]
    if root not in EXTRAS:
        return None
    return MissingExtra(f"{feature} needs the optional package {root!r}: pip install 'codesign[{EXTRAS[root]}]'")


def require(module: str, extra: str, feature: str) -> object:
    """Import ``module`` of an optional extra, or raise :class:`MissingExtra` (one line naming
    the extra) when the package is not installed.

    Example: ``require("dash", "dashboard", "codesign dashboard")``.
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        root = module.split(".")[0]
        if exc.name is None or exc.name.split(".")[0] != root:
            raise
        raise MissingExtra(f"{feature} needs the optional package {root!r}: "
                           f"pip install 'codesign[{extra}]'") from None


class AgentError(CodesignError, RuntimeError):
    """An agent could not be built with the given options, or failed while asking or being told."""
