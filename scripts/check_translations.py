"""Fail when the zh_Hans catalogue is out of date with the source.

Regenerates the catalogue with ``makemessages`` into the tree, compares the set of messages
with what was committed, then puts the committed files back. Also fails on untranslated or
fuzzy entries and on a compiled .mo that does not match its .po.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "vaxops" / "locale"
PO = LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
IGNORES = [".venv", ".tools", "var", "node_modules", "bench", "docs", "scenarios", "vaxops/web/static"]


def msgids(po_text: str) -> set[tuple[str, str]]:
    entries = set()
    for block in po_text.split("\n\n"):
        if "#, fuzzy" in block and 'msgid ""\nmsgstr ""' not in block:
            entries.add(("FUZZY", block))
        ctx = re.search(r'^msgctxt "(.*)"', block, re.M)
        mid = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        if mid:
            text = "".join(re.findall(r'"(.*)"', mid.group(1)))
            if text:
                entries.add((ctx.group(1) if ctx else "", text))
    return entries


def untranslated(po_text: str) -> list[str]:
    bad = []
    for block in po_text.split("\n\n"):
        mid = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        if not mid or not "".join(re.findall(r'"(.*)"', mid.group(1))):
            continue
        strs = re.findall(r'^msgstr(?:\[\d\])? ((?:".*"\n?)+)', block, re.M)
        if not strs or any(not "".join(re.findall(r'"(.*)"', s)) for s in strs) or "#, fuzzy" in block:
            bad.append(block.strip())
    return bad


def main() -> int:
    if not shutil.which("xgettext") or not shutil.which("msgfmt"):
        print("GNU gettext (xgettext, msgfmt) is required: apt-get install gettext", file=sys.stderr)
        return 1
    committed = PO.read_text(encoding="utf-8")
    committed_mo = MO.read_bytes()
    try:
        cmd = [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-location", "--no-obsolete"]
        for ignore in IGNORES:
            cmd += ["-i", ignore]
        subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, env={**os.environ, "VAXOPS_DEBUG": "0"})
        fresh = PO.read_text(encoding="utf-8")
    finally:
        PO.write_text(committed, encoding="utf-8")
    problems = []
    missing = msgids(fresh) - msgids(committed)
    stale = msgids(committed) - msgids(fresh)
    if missing:
        problems.append("messages in the source but not in django.po:\n  " + "\n  ".join(sorted(m[1] for m in missing)))
    if stale:
        problems.append("messages in django.po no longer in the source:\n  " + "\n  ".join(sorted(m[1] for m in stale)))
    bad = untranslated(committed)
    if bad:
        problems.append(f"{len(bad)} untranslated or fuzzy entries, e.g.:\n" + bad[0])
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "django.mo"
        subprocess.run(["msgfmt", "-o", str(out), str(PO)], check=True)
        if out.read_bytes() != committed_mo:
            problems.append("django.mo is not compiled from the current django.po (run scripts/update_translations.sh)")
    if problems:
        print("Translations out of date:\n" + "\n".join(problems), file=sys.stderr)
        print("Fix: bash scripts/update_translations.sh, then translate the new entries.", file=sys.stderr)
        return 1
    print(f"zh_Hans catalogue up to date ({len(msgids(committed))} messages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
