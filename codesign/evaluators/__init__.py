"""codesign.evaluators."""
