"""Audit the packages pinned in uv.lock for known vulnerabilities with pip-audit.

Run by scripts/test.sh. The pins come from ``uv export --frozen`` (every group, so the tools
that run the tests are audited too) and go to pip-audit with ``--no-deps --disable-pip``: the
lock file is the whole truth, nothing is resolved again.

An advisory source is tried in turn (PyPI's JSON API, then OSV), each bounded in time. The
outcome is always said in one line:

* ``== dependency audit: N packages, no known vulnerability (advisory source: S)`` — exit 0;
* the vulnerable packages with their advisories and fixed versions — exit 1 (the run fails);
* ``!! dependency audit not run: no advisory source reachable (…)`` — exit 0, because a
  machine without a network must still be able to test; set ``VAXOPS_AUDIT_REQUIRED=1``
  to make this an error (exit 2);
* ``!! dependency audit incomplete: …`` when a source answered for some packages only — exit 0
  (or 2 when required), naming what could not be checked.

pip-audit itself exits 0 when it could check nothing (every package "skipped"), so its JSON
report is read here rather than its exit code: no silent pass.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pypi", "osv")
# Seconds for one source's whole audit (about 150 pinned packages, one request each), and for
# one network request inside it.
TOTAL_TIMEOUT = float(os.environ.get("VAXOPS_AUDIT_TIMEOUT", "180"))
SOCKET_TIMEOUT = 10


@dataclass
class Outcome:
    """What one advisory source said about the pinned packages."""

    source: str
    audited: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    vulnerable: dict[str, list[dict]] = field(default_factory=dict)
    error: str = ""

    @property
    def reached(self) -> bool:
        return bool(self.audited) or bool(self.vulnerable)


def judge(source: str, report: dict) -> Outcome:
    """Read pip-audit's JSON report: which packages were checked, skipped, found vulnerable."""
    outcome = Outcome(source)
    for dep in report.get("dependencies", []):
        label = f"{dep.get('name')} {dep.get('version', '')}".strip()
        if dep.get("skip_reason"):
            outcome.skipped[label] = dep["skip_reason"]
        elif dep.get("vulns"):
            outcome.vulnerable[label] = dep["vulns"]
        else:
            outcome.audited.append(label)
    return outcome


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def run_source(source: str, requirements: Path, pip_audit: str) -> Outcome:
    """Audit ``requirements`` against one advisory source within TOTAL_TIMEOUT seconds."""
    cache = ROOT / "var" / "pip-audit-cache"
    cmd = [
        pip_audit, "-r", str(requirements), "--no-deps", "--disable-pip", "-s", source, "-f", "json",
        "--progress-spinner", "off", "--timeout", str(SOCKET_TIMEOUT), "--cache-dir", str(cache),
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TOTAL_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return Outcome(source, error=f"no answer within {TOTAL_TIMEOUT:.0f} s")
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        last = next((ln for ln in reversed(proc.stderr.splitlines()) if ln.strip()), f"exit {proc.returncode}")
        return Outcome(source, error=_short(last))
    return judge(source, report)


def export_requirements(target: Path) -> str:
    """Write the pins of uv.lock as a requirements file; return an error text, or ""."""
    uv = os.environ.get("UV") or shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
    if not Path(uv).exists() and not shutil.which(uv):
        return "uv not found"
    proc = subprocess.run(
        [uv, "export", "--frozen", "--format", "requirements-txt", "--no-hashes", "--no-emit-project",
         "--all-groups", "--quiet", "-o", str(target)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )
    return "" if proc.returncode == 0 else _short(proc.stderr or f"uv export exited {proc.returncode}")


def verdict(outcomes: list[Outcome], *, required: bool) -> tuple[int, list[str]]:
    """The exit status and the lines to print, from the sources tried (in order)."""
    for outcome in outcomes:
        if outcome.vulnerable:
            lines = [f"!! dependency audit: known vulnerabilities in uv.lock (advisory source: {outcome.source})"]
            for package, vulns in sorted(outcome.vulnerable.items()):
                for v in vulns:
                    fixed = ", ".join(v.get("fix_versions") or []) or "no fixed version yet"
                    lines.append(f"   {package}: {v.get('id')} (fixed in {fixed})")
            lines.append("   upgrade the package (uv lock --upgrade-package NAME) and run the tests again")
            return 1, lines
    for outcome in outcomes:
        if outcome.reached and not outcome.skipped:
            return 0, [
                f"== dependency audit: {len(outcome.audited)} packages, no known vulnerability "
                f"(advisory source: {outcome.source})"
            ]
    partial = next((o for o in outcomes if o.reached), None)
    if partial is not None:
        first, reason = next(iter(partial.skipped.items()))
        return (2 if required else 0), [
            f"!! dependency audit incomplete: {len(partial.audited)} packages checked, "
            f"{len(partial.skipped)} could not be checked against {partial.source} "
            f"(e.g. {first}: {_short(reason, 100)})"
        ]
    why = "; ".join(f"{o.source}: {_why(o)}" for o in outcomes) or "none tried"
    return (2 if required else 0), [f"!! dependency audit not run: no advisory source reachable ({why})"]


def _why(outcome: Outcome) -> str:
    if outcome.error:
        return outcome.error
    if outcome.skipped:
        first, reason = next(iter(outcome.skipped.items()))
        return f"no answer for any of {len(outcome.skipped)} packages, e.g. {_short(reason, 100)}"
    return "no packages to check"


def main() -> int:
    required = os.environ.get("VAXOPS_AUDIT_REQUIRED") == "1"
    pip_audit = str(Path(sys.executable).with_name("pip-audit"))
    if not Path(pip_audit).exists():
        status, lines = (2 if required else 0), ["!! dependency audit not run: pip-audit is not installed (uv sync)"]
        print("\n".join(lines))
        return status
    requirements = ROOT / "var" / "audit-requirements.txt"
    requirements.parent.mkdir(parents=True, exist_ok=True)
    error = export_requirements(requirements)
    if error:
        print(f"!! dependency audit not run: cannot export uv.lock ({error})")
        return 2 if required else 0
    outcomes: list[Outcome] = []
    for source in SOURCES:
        outcome = run_source(source, requirements, pip_audit)
        outcomes.append(outcome)
        if outcome.vulnerable or (outcome.reached and not outcome.skipped):
            break
    status, lines = verdict(outcomes, required=required)
    print("\n".join(lines))
    return status


if __name__ == "__main__":
    sys.exit(main())
