"""Results: the store, Pareto fronts, hypervolume, export."""

from codesign.results.pareto import (
    Normalization,
    hypervolume,
    non_dominated_mask,
    normalized_hypervolume,
    pareto_ranks,
    reference_point,
)

__all__ = ["Normalization", "hypervolume", "non_dominated_mask", "normalized_hypervolume", "pareto_ranks",
           "reference_point"]
