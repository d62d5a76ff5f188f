"""The demo build shared by a test module: built once, inside a transaction rolled back at the
module's end (the services' durable blocks run inside it, as in a TestCase)."""

from __future__ import annotations

import pytest
from django.db import transaction


def build_once(django_db_blocker, **kwargs):
    from vaxops.campaign import demo

    with django_db_blocker.unblock():
        block = transaction.atomic()
        block._from_testcase = True
        block.__enter__()
        try:
            yield demo.build_demo(**kwargs)
        finally:
            transaction.set_rollback(True)
            block.__exit__(None, None, None)


@pytest.fixture(scope="module")
def demo_built(django_db_setup, django_db_blocker):
    """The demo at the tests' scale (0.002, seed 7), once per module."""
    yield from build_once(django_db_blocker, scale=0.002, seed=7)
