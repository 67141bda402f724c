"""Fixtures of the linux driver's tests: a lab of network namespaces,
removed (with every process left in it) when the test ends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.linux.netlab import Lab, open_lab


@pytest.fixture
def lab(tmp_path) -> Iterator[Lab]:
    with open_lab(tmp_path) as lab:
        yield lab
