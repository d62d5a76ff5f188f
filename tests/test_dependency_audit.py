"""The dependency audit of uv.lock fails on a known vulnerability and never passes silently."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "audit_dependencies.py"
spec = importlib.util.spec_from_file_location("audit_dependencies", SCRIPT)
audit = sys.modules["audit_dependencies"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit)

CLEAN = {"dependencies": [{"name": "django", "version": "5.2.19", "vulns": []},
                          {"name": "numpy", "version": "2.3.0", "vulns": []}], "fixes": []}
VULNERABLE = {"dependencies": [
    {"name": "django", "version": "5.2.0", "vulns": [
        {"id": "PYSEC-2025-1", "fix_versions": ["5.2.1"], "aliases": ["CVE-2025-0001"], "description": "x"}]},
    {"name": "numpy", "version": "2.3.0", "vulns": []},
], "fixes": []}
UNANSWERED = {"dependencies": [
    {"name": "django", "skip_reason": "Dependency not found on PyPI and could not be audited: django (5.2.19)"},
    {"name": "numpy", "skip_reason": "Dependency not found on PyPI and could not be audited: numpy (2.3.0)"},
], "fixes": []}


def test_a_known_vulnerability_fails_the_run_and_names_the_fix():
    status, lines = audit.verdict([audit.judge("pypi", VULNERABLE)], required=False)
    assert status == 1
    assert any("django 5.2.0: PYSEC-2025-1 (fixed in 5.2.1)" in ln for ln in lines)


def test_a_clean_lock_passes_and_says_which_source_answered():
    status, lines = audit.verdict([audit.judge("pypi", CLEAN)], required=False)
    assert status == 0 and lines == ["== dependency audit: 2 packages, no known vulnerability (advisory source: pypi)"]


def test_a_source_that_answers_for_no_package_is_not_a_pass():
    # pip-audit itself exits 0 and prints "No known vulnerabilities found" in this case.
    offline = audit.Outcome("osv", error="ConnectionError: api.osv.dev unreachable")
    status, lines = audit.verdict([audit.judge("pypi", UNANSWERED), offline], required=False)
    assert status == 0
    [line] = lines
    assert line.startswith("!! dependency audit not run: no advisory source reachable (")
    assert "pypi: no answer for any of 2 packages" in line and "osv: ConnectionError" in line


def test_an_unreachable_source_is_an_error_when_the_audit_is_required():
    status, _ = audit.verdict([audit.Outcome("pypi", error="timeout")], required=True)
    assert status == 2


def test_a_partial_answer_says_what_could_not_be_checked():
    partial = {"dependencies": [CLEAN["dependencies"][0], UNANSWERED["dependencies"][1]]}
    status, [line] = audit.verdict([audit.judge("pypi", partial)], required=False)
    assert status == 0 and line.startswith("!! dependency audit incomplete: 1 packages checked, 1 could not")


def test_the_test_command_runs_the_audit():
    text = (SCRIPT.parent / "test.sh").read_text()
    assert "audit_dependencies.py" in text
