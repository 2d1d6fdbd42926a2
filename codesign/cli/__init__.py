"""codesign.cli."""
