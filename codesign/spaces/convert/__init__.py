"""Conversions of a :class:`~codesign.spaces.space.Space` to the forms agents search over.

- :mod:`.gym` — gymnasium ``MultiDiscrete`` / ``Dict`` spaces over parameter indices.
- :mod:`.optuna_dists` — optuna distributions.
- :mod:`.botorch_form` — BoTorch box (bounds, integer / categorical dims), torch-free.
- :mod:`.sequence` — an ordered sequence of decisions (MCTS, layerwise RL).
- :mod:`.subspace` — one sub-space per subsystem (multi-agent RL, nested search).

None of these modules imports gymnasium, optuna, torch or botorch at import time: each
conversion imports its library when called, so the re-exports below are cheap.
"""

from __future__ import annotations

from codesign.spaces.convert.botorch_form import BotorchForm, to_botorch
from codesign.spaces.convert.gym import (
    gym_decode,
    gym_dict_decode,
    gym_dict_encode,
    gym_encode,
    to_gymnasium,
    to_gymnasium_dict,
)
from codesign.spaces.convert.optuna_dists import optuna_decode, optuna_encode, to_optuna
from codesign.spaces.convert.sequence import Decision, SequenceForm, to_sequence
from codesign.spaces.convert.subspace import cross_constraints, merge_designs, split, split_design

__all__ = [
    "BotorchForm", "to_botorch",
    "to_gymnasium", "gym_encode", "gym_decode", "to_gymnasium_dict", "gym_dict_encode", "gym_dict_decode",
    "to_optuna", "optuna_encode", "optuna_decode",
    "Decision", "SequenceForm", "to_sequence",
    "split", "split_design", "merge_designs", "cross_constraints",
]
