"""codesign.envs."""
