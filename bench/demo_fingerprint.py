"""What a demo build wrote, to compare two builds: ``.venv/bin/python bench/demo_fingerprint.py FILE``
(a SQLite file of ``vaxops demo``).

Prints the row count of every table, a checksum of the work lists' due table (every column, ordered
by person) and of the key-group memberships, persons and targets (their ``*_at`` timestamps left
out: they are the moment of the build). Two builds of the same seed and scale print the same lines.
"""

from __future__ import annotations

import argparse
import hashlib
import sqlite3


def checksum(db: sqlite3.Connection, sql: str) -> str:
    digest = hashlib.sha256()
    for row in db.execute(sql):
        digest.update(repr(row).encode())
    return digest.hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    db = sqlite3.connect(f"file:{parser.parse_args().file}?mode=ro", uri=True)
    tables = [name for (name,) in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    for table in tables:
        print(table, db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])
    print("checksum outreach_dueentry", checksum(db, "SELECT * FROM outreach_dueentry ORDER BY person_id"))
    for table in tables:
        if table.startswith(("keygroups_", "targets_", "registry_person")):
            columns = [c for _cid, c, *_ in db.execute(f'PRAGMA table_info("{table}")')
                       if not c.endswith("_at") and c not in ("at", "uuid")]
            print("checksum", table, checksum(db, f'SELECT {", ".join(columns)} FROM "{table}" ORDER BY 1'))


if __name__ == "__main__":
    main()
