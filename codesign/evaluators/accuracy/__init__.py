"""codesign.evaluators.accuracy."""
