"""codesign.spaces."""
