"""Fixtures of the linux driver's tests: a lab of network namespaces,
removed (with every process left in it) when the test ends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.linux.netlab import Lab
from tests.support.skips import require_netns, require_root


@pytest.fixture
def lab(tmp_path) -> Iterator[Lab]:
    require_root()
    require_netns()
    lab = Lab(tmp_path)
    try:
        yield lab
    finally:
        lab.close()
