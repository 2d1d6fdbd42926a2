"""codesign.spaces.convert."""
