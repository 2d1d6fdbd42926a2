"""The schema of ``codesign run``'s YAML config (and flags), validated by pydantic.

Every error names the exact place in the document (``problem.evaluators[1].kwargs``) and
what must hold there, in one line, e.g. ``config problem.objectives must be a non-empty list,
but got []``. The models describe the *shape* of the document; what names mean (a registered
agent, a space's options) is checked later by the registry and the builders, which raise their
own one-line errors.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, StrictInt, Tag, ValidationError

from codesign.errors import ConfigError

NonEmpty = Annotated[str, Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Named(_Strict):
    """A registered name with options: ``{name: ..., kwargs: {...}}``."""

    name: NonEmpty
    kwargs: dict[str, Any] = Field(default_factory=dict)


#: union tags (left out of error paths)
TAGS = ("by-name", "with-kwargs", "problem-spec", "mapping")


def _named_or_str(value: Any) -> str:
    return "by-name" if isinstance(value, str) else "with-kwargs"


NameOrNamed = Annotated[Annotated[NonEmpty, Tag("by-name")] | Annotated[Named, Tag("with-kwargs")],
                        Discriminator(_named_or_str)]
Objective = Annotated[Annotated[NonEmpty, Tag("by-name")] | Annotated[dict[str, Any], Tag("mapping")],
                      Discriminator(lambda v: "by-name" if isinstance(v, str) else "mapping")]
Plugins = Annotated[list[NonEmpty], BeforeValidator(lambda v: [v] if isinstance(v, str) else v)]


class ProblemSpec(_Strict):
    """A whole problem described in the config (see :func:`codesign.evaluators.composite.problem_from_config`)."""

    name: NonEmpty = "custom"
    description: str = ""
    workload: NameOrNamed | None = None
    space: NameOrNamed
    evaluators: Annotated[list[NameOrNamed], Field(min_length=1)]
    objectives: Annotated[list[Objective], Field(min_length=1)]
    constraints: list[NonEmpty] = Field(default_factory=list)
    bounds: dict[str, dict[str, Any]] | None = None


def _problem_kind(value: Any) -> str:
    if isinstance(value, str):
        return "by-name"
    if isinstance(value, Mapping) and set(value) <= {"name", "kwargs"}:
        return "with-kwargs"
    return "problem-spec"


class RunConfig(_Strict):
    """``codesign run``'s settings (YAML keys; the flags of the same names override them)."""

    problem: Annotated[Annotated[NonEmpty, Tag("by-name")] | Annotated[Named, Tag("with-kwargs")]
                       | Annotated[ProblemSpec, Tag("problem-spec")], Discriminator(_problem_kind)] | None = None
    space: NameOrNamed | None = None
    agent: NameOrNamed | None = None
    agent_kwargs: dict[str, Any] | None = None
    budget: Annotated[StrictInt, Field(ge=1)] | None = None
    seed: Annotated[StrictInt, Field(ge=0)] | None = None
    store: NonEmpty | None = None
    batch_size: Annotated[StrictInt, Field(ge=1)] | None = None
    plugins: Plugins | None = None
    name: NonEmpty | None = None
    executor: Literal["inline", "process", "ray"] | None = None
    workers: Annotated[StrictInt, Field(ge=1)] | None = None
    worker: NonEmpty | None = None
    eval_timeout: Annotated[float, Field(strict=False)] | None = None  # range: executors.check_timeout
    ray_address: NonEmpty | None = None
    constraints: Annotated[list[NonEmpty], BeforeValidator(lambda v: [v] if isinstance(v, str) else v)] | None = None
    max_accuracy_drop: Annotated[float, Field(strict=False)] | None = None  # range: the problem spec


CONFIG_KEYS = tuple(RunConfig.model_fields)


def validate_run_config(data: Mapping[str, Any], source: str = "config") -> RunConfig:
    """The validated config, or a one-line ConfigError naming the path and what must hold there."""
    try:
        return RunConfig.model_validate(dict(data))
    except ValidationError as exc:
        raise ConfigError(_message(exc, data, source)) from None


def _path(loc: tuple[Any, ...]) -> str:
    """``("problem", "problem-spec", "evaluators", 1, "with-kwargs", "kwargs")`` ->
    ``problem.evaluators[1].kwargs``."""
    out = ""
    for part in loc:
        if part in TAGS:
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _fields(loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed in the mapping an unknown key ``loc`` sits in."""
    model: Any = RunConfig
    for part in loc[:-1]:
        if part == "problem-spec":
            model = ProblemSpec
        elif part == "with-kwargs":
            model = Named
    return list(model.model_fields)


def _expectation(err: Mapping[str, Any]) -> str:
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "an integer"
    if kind in ("greater_than_equal", "greater_than"):
        op = ">=" if kind == "greater_than_equal" else ">"
        bound = ctx.get("ge", ctx.get("gt"))
        return f"{'an integer' if isinstance(bound, int) else 'a number'} {op} {bound}"
    if kind in ("string_type", "string_too_short"):
        return "a non-empty string"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "a mapping"
    if kind == "list_type":
        return "a list"
    if kind == "too_short":
        return "a non-empty list"
    if kind in ("float_type", "float_parsing"):
        return "a number"
    if kind == "literal_error":
        return f"one of {ctx.get('expected', '')}".replace("'", "")
    if kind == "union_tag_invalid":
        return "a name or a mapping"
    return str(err.get("msg", "valid")).lower()


def _message(exc: ValidationError, data: Mapping[str, Any], source: str) -> str:
    errors = exc.errors()
    # report the error at the deepest, most specific place first
    err = max(errors, key=lambda e: (e["type"] == "extra_forbidden", e["type"] == "missing", len(e["loc"])))
    loc = tuple(err["loc"])
    path = _path(loc)
    if err["type"] == "extra_forbidden":
        fields = _fields(loc)
        parent = _path(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), fields, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        where = f"{source} keys" if not parent else f"{source} {parent} keys"
        return f"{where} must be among {sorted(fields)}, but got unknown {str(loc[-1])!r}{hint}"
    if err["type"] == "missing":
        parent = _path(loc[:-1]) or source
        return f"{parent} must have {str(loc[-1])!r}; given keys {sorted(_at(data, loc[:-1]) or [])}"
    if loc and loc[-1] == "problem-spec" and err["type"] == "model_type":
        return f"{path} must be a registered name or a mapping, but got {err.get('input')!r}"
    if loc and loc[-1] in ("with-kwargs", "mapping") and err["type"] in ("model_type", "dict_type"):
        return f"{path} must be a name or a mapping, but got {err.get('input')!r}"
    if loc and loc[-1] == "plugins" and err["type"] == "list_type":
        return f"{path} must be a list of Python file paths, but got {err.get('input')!r}"
    return f"{path} must be {_expectation(err)}, but got {err.get('input')!r}"


def _at(data: Any, loc: tuple[Any, ...]) -> Any:
    """The value of ``data`` at a pydantic location (tags skipped)."""
    for part in loc:
        if part in TAGS:
            continue
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data
