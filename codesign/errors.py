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


class AgentError(CodesignError, RuntimeError):
    """An agent could not be built with the given options, or failed while asking or being told."""
