"""Design spaces: parameter types, the :class:`Space` value object, and builders.

    >>> from codesign.spaces import Space, Bitwidth, PowerOfTwo, Constraint
    >>> s = Space([Bitwidth("w_bits", "quant", 2, 8), PowerOfTwo("rows", "hw", 4, 64)],
    ...           [Constraint("small", "rows * w_bits <= 256")])

Conversions to agent forms (gymnasium, optuna, BoTorch, sequences, sub-spaces) live in
:mod:`codesign.spaces.convert`, which is not imported here.
"""

from __future__ import annotations

from codesign.spaces.builders import (
    DATAFLOWS,
    GRANULARITIES,
    PE_TYPES,
    divisors,
    expert_group,
    hardware_space,
    joint_space,
    layer_bits,
    layer_mapping,
    mapping_space,
    quant_keys,
    quant_space,
)
from codesign.spaces.expr import Expr
from codesign.spaces.params import (
    PARAM_TYPES,
    Bitwidth,
    Categorical,
    Integer,
    Ordinal,
    Param,
    PowerOfTwo,
    param_from_dict,
)
from codesign.spaces.space import Constraint, Space, compose

__all__ = [
    "Param", "Categorical", "Integer", "Bitwidth", "PowerOfTwo", "Ordinal", "PARAM_TYPES", "param_from_dict",
    "Space", "Constraint", "compose", "Expr",
    "quant_space", "hardware_space", "mapping_space", "joint_space", "quant_keys", "layer_bits",
    "layer_mapping", "expert_group", "divisors", "PE_TYPES", "DATAFLOWS", "GRANULARITIES",
]
