"""Fixtures the agent tests share (helpers they import are in helpers.py)."""

from __future__ import annotations

import pytest

from tests.agent.helpers import Clock
from winbox_agent.router import Router


@pytest.fixture
def clock() -> Clock:
    """A clock the test moves by hand, at T0."""
    return Clock()


@pytest.fixture
def router():
    """A router in memory (seed 5); a module may define its own."""
    r = Router(None, seed=5)
    yield r
    r.close()
