"""Settings for the test suite: the production settings with a fast password hasher."""

import os

# The tests run on the demo key, as the demo does (settings.py refuses it otherwise).
os.environ.setdefault("VAXOPS_DEMO", "1")

from vaxops.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The test world replays the 2021 campaign as if each dose were recorded on the day it was given;
# the tests of retrospective entry (vaccination/tests/test_retrospective.py) set the real window.
VAXOPS_RETROSPECTIVE_HOURS = 24 * 366 * 30
