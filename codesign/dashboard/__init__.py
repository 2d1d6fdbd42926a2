"""codesign.dashboard."""
