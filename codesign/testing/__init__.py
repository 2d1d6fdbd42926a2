"""codesign.testing."""
