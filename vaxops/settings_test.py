"""Settings for the test suite: the production settings with a fast password hasher."""

import os

# The tests run on the demo key, as the demo does (settings.py refuses it otherwise).
os.environ.setdefault("VAXOPS_DEMO", "1")

from vaxops.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
