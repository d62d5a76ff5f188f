"""Fixtures of the dose tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def real_retrospective_window(settings):
    """The production window (24 hours): the test settings widen it so that the 2021 test world
    can record its doses as if on the day; these tests need the real rule."""
    settings.VAXOPS_RETROSPECTIVE_HOURS = 24
    return settings
