"""codesign.agents."""
