"""codesign.workloads."""
