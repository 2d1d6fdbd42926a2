"""codesign.results."""
