"""codesign.evaluators.cost."""
