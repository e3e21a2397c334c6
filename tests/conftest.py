"""Fixtures shared by the whole suite. Helpers live in tests/support/, servers in tests/peers/."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .support.pki import Pki, make_pki
from .support.runs import Run, probe_in_process


@pytest.fixture
def probe() -> Callable[..., Run]:
    return probe_in_process


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """One CA, client certificate and key for every TLS test of the session."""
    return make_pki(str(tmp_path_factory.mktemp("pki")))
