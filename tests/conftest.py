"""Shared fixtures: a fast synthetic problem registered from a plugin file (like a user's)."""

from __future__ import annotations

import os
import pathlib

import pytest

PLUGIN = pathlib.Path(__file__).parent / "plugins" / "synth_plugin.py"


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Model caches go to one per-session directory unless the caller set CODESIGN_CACHE."""
    if "CODESIGN_CACHE" not in os.environ:
        os.environ["CODESIGN_CACHE"] = str(tmp_path_factory.mktemp("codesign-cache"))


@pytest.fixture(scope="session")
def synth_plugin() -> str:
    from codesign.registry import load_plugin

    load_plugin(str(PLUGIN))
    return str(PLUGIN)
