"""Shipped checkers and conformance suites (for built-ins and plugins alike)."""

from codesign.testing.agents import AgentTestCase, check_agent, conformance_space, synthetic_metrics

__all__ = ["AgentTestCase", "check_agent", "conformance_space", "synthetic_metrics"]
