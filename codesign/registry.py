"""One registration mechanism for every catalogue of codesign.

Kinds: ``space``, ``workload``, ``evaluator``, ``agent``, ``problem``, ``env``, ``pe``.
Each entry is a factory (a callable returning the object) or a lazy ``"module:attr"`` string
resolved on first use, so that heavy modules (torch, botorch) load only when needed.

    >>> @register_space("my-space")
    ... def my_space(**kwargs): ...
    >>> make_space("my-space", layers=4)

Unknown names raise :class:`~codesign.errors.RegistryError` with close matches.
Nothing here imports anything else from codesign except :mod:`codesign.errors`.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from codesign.errors import ConfigError, RegistryError

KINDS = ("space", "workload", "evaluator", "agent", "problem", "env", "pe")


@dataclass
class Spec:
    """A registered entry: its name, kind, factory (or lazy reference) and a summary line."""

    name: str
    kind: str
    entry: Callable[..., Any] | str
    summary: str = ""
    tags: dict[str, Any] = field(default_factory=dict)

    def load(self) -> Callable[..., Any]:
        if isinstance(self.entry, str):
            module_name, _, attr = self.entry.partition(":")
            try:
                module = importlib.import_module(module_name)
                obj = module
                for part in attr.split("."):
                    obj = getattr(obj, part)
            except (ImportError, AttributeError) as exc:
                raise RegistryError(
                    f"{self.kind} {self.name!r} points to {self.entry!r}, which cannot be loaded: {exc}"
                ) from exc
            self.entry = obj
        return self.entry

    def describe(self) -> str:
        if self.summary:
            return self.summary
        if not isinstance(self.entry, str):
            doc = inspect.getdoc(self.entry) or ""
            return doc.strip().splitlines()[0] if doc.strip() else ""
        return ""


class Registry:
    """The catalogue of one kind."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._specs: dict[str, Spec] = {}

    def register(
        self,
        name: str,
        entry: Callable[..., Any] | str | None = None,
        *,
        summary: str = "",
        overwrite: bool = False,
        **tags: Any,
    ) -> Any:
        """Register ``entry`` under ``name``; without ``entry``, return a decorator."""
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{self.kind} name must be a non-empty string, but got {name!r}")

        def _do(obj: Callable[..., Any] | str) -> Any:
            if name in self._specs and not overwrite and self._specs[name].entry is not obj:
                raise ConfigError(
                    f"{self.kind} {name!r} is already registered; pass overwrite=True to replace it"
                )
            self._specs[name] = Spec(name, self.kind, obj, summary, dict(tags))
            return obj

        if entry is None:
            return _do
        return _do(entry)

    def unregister(self, name: str) -> None:
        self._specs.pop(name, None)

    def spec(self, name: str) -> Spec:
        try:
            return self._specs[name]
        except KeyError:
            raise RegistryError(self._unknown_message(name)) from None

    def _unknown_message(self, name: str) -> str:
        close = difflib.get_close_matches(str(name), list(self._specs), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        known = ", ".join(sorted(self._specs)) or "none"
        return f"unknown {self.kind} {name!r}{hint} (known: {known})"

    def make(self, name: str, **kwargs: Any) -> Any:
        factory = self.spec(name).load()
        _check_kwargs(self.kind, name, factory, kwargs)
        return factory(**kwargs)

    def check_options(self, name: str, options: dict[str, Any]) -> None:
        """Raise the one-line ConfigError :meth:`make` would raise for unknown ``options``,
        without building anything (e.g. a command checks its input before long work)."""
        _check_kwargs(self.kind, name, self.spec(name).load(), options)

    def names(self) -> list[str]:
        return sorted(self._specs)

    def specs(self) -> list[Spec]:
        return [self._specs[n] for n in self.names()]

    def __contains__(self, name: object) -> bool:
        return name in self._specs


def _check_kwargs(kind: str, name: str, factory: Callable[..., Any], kwargs: dict[str, Any]) -> None:
    """Reject unknown keyword arguments with a one-line message instead of a TypeError."""
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        return
    params = sig.parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return
    allowed = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    unknown = sorted(set(kwargs) - allowed)
    if unknown:
        raise ConfigError(
            f"{kind} {name!r} takes options {sorted(allowed) or 'none'}, but got unknown {unknown}"
        )


REGISTRIES: dict[str, Registry] = {kind: Registry(kind) for kind in KINDS}


def registry(kind: str) -> Registry:
    try:
        return REGISTRIES[kind]
    except KeyError:
        close = difflib.get_close_matches(kind, KINDS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise RegistryError(f"unknown registry kind {kind!r}{hint} (known: {', '.join(KINDS)})") from None


def _make_pair(kind: str) -> tuple[Callable[..., Any], Callable[..., Any]]:
    reg = REGISTRIES[kind]

    def register(name: str, entry: Callable[..., Any] | str | None = None, **kw: Any) -> Any:
        return reg.register(name, entry, **kw)

    def make(name: str, **kwargs: Any) -> Any:
        return reg.make(name, **kwargs)

    register.__doc__ = f"Register a {kind} factory under ``name`` (decorator if no entry)."
    make.__doc__ = f"Build the {kind} registered as ``name`` with ``kwargs``."
    return register, make


register_space, make_space = _make_pair("space")
register_workload, make_workload = _make_pair("workload")
register_evaluator, make_evaluator = _make_pair("evaluator")
register_agent, make_agent = _make_pair("agent")
register_problem, make_problem = _make_pair("problem")
register_env, make_env = _make_pair("env")
register_pe, make_pe = _make_pair("pe")


def load_plugin(path: str) -> None:
    """Execute a user's Python file so that its ``register_*`` calls take effect."""
    import importlib.util
    import os
    import sys

    if not os.path.isfile(path):
        raise ConfigError(f"--plugin must be an existing Python file, but got {path!r}")
    module_name = "codesign_plugin_" + os.path.splitext(os.path.basename(path))[0].replace("-", "_")
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"--plugin must be a Python file, but got {path!r}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise ConfigError(f"plugin {path!r} has a syntax error at line {exc.lineno}: {exc.msg}") from None
    except KeyboardInterrupt:
        raise
    except SystemExit as exc:  # a plugin must not end the program it is loaded into
        sys.modules.pop(module_name, None)
        raise ConfigError(f"plugin {path!r} must only register things, but it called sys.exit({exc.code!r}) "
                          "while loading") from None
    except BaseException as exc:  # noqa: BLE001 - any failure of user code at import is one line
        sys.modules.pop(module_name, None)
        text = " ".join(str(exc).split())[:300] or "(no message)"
        raise ConfigError(f"plugin {path!r} failed while loading: {type(exc).__name__}: {text}") from exc
