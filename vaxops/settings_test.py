"""Settings for the test suite: the production settings with a fast password hasher."""

from vaxops.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
