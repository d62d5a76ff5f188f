"""Files for the import tests: CSV text built from rows, ID numbers of synthetic people."""

from __future__ import annotations

import csv
import datetime as dt
import io

from vaxops.registry.idnumber import make_id_number

PEOPLE_HEADER = ["id_number", "name", "phone", "division_code", "priority_groups"]
DOSE_HEADER = ["id_number", "product", "lot_number", "site_code", "administered_at", "dose_number", "client_uuid"]


def ident(seq: int, county: str = "513301", born: dt.date = dt.date(1980, 5, 17)) -> str:
    return make_id_number(county, born, seq)


def csv_bytes(header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


NAMES = ["张三", "李四", "王五", "赵六", "孙七", "周八", "吴九", "郑十", "冯一", "陈二", "褚三", "卫四",
         "蒋五", "沈六", "韩七", "杨八", "朱九", "秦十", "尤一", "许二", "何三", "吕四", "施五", "孔六"]


def person_row(seq: int, *, name: str | None = None, county: str = "513301", phone: str = "") -> list[str]:
    return [ident(seq, county), name or NAMES[seq % len(NAMES)], phone, f"{county}001", ""]


def dose_row(seq: int, *, county: str = "513301", site: str = "KD-MASS", at: str = "2021-05-10T10:00:00+08:00",
             lot: str = "B2021001", product: str = "BIBP", dose_number: str = "", client_uuid: str = "") -> list[str]:
    return [ident(seq, county), product, lot, site, at, dose_number, client_uuid]
