"""Settings for the test suite: the production settings with a fast password hasher."""

import os

# The tests run on the demo key, as the demo does (settings.py refuses it otherwise).
os.environ.setdefault("VAXOPS_DEMO", "1")

from vaxops.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The test world replays the 2021 campaign as if each dose were recorded on the day it was given;
# the tests of retrospective entry (vaccination/tests/test_retrospective.py) set the real window.
VAXOPS_RETROSPECTIVE_HOURS = 24 * 366 * 30

# Every test client and browser comes from 127.0.0.1: the lock-out tests set their own limit, so
# the rest of the suite never shares one address's failure count (browser log-ins were refused
# now and then in full runs).
VAXOPS_AUTH_FAILURE_LIMIT = 1000
