"""Reinforcement-learning agents: SB3 single-agent, HAQ-style DDPG, multi-agent (PettingZoo)."""
