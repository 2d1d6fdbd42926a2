"""Results: the store, Pareto fronts, hypervolume, export."""

from codesign.results.pareto import hypervolume, non_dominated_mask, pareto_ranks, reference_point

__all__ = ["hypervolume", "non_dominated_mask", "pareto_ranks", "reference_point"]
