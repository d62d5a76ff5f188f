import pytest


@pytest.fixture(autouse=True)
def _import_files_in_tmp(settings, tmp_path):
    """Stored import files and reports go to the test's own folder, not the project's var/."""
    settings.VAR_DIR = tmp_path
