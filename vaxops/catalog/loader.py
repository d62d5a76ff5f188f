"""Load the products of ``data/products.json`` into the catalog (used by the data migration)."""

from __future__ import annotations

import json
from pathlib import Path

from vaxops.catalog.rules import ProductRule

DATA = Path(__file__).resolve().parent / "data" / "products.json"


def load_catalog(product_model) -> int:
    """Create or update every product; ``product_model`` is the (historical) Product model."""
    raw = json.loads(DATA.read_text(encoding="utf-8"))
    series = raw.get("series", {})
    # The presentation columns exist from migration 0004 on; earlier historical models lack them.
    fields = {f.name for f in product_model._meta.get_fields()}
    for item in raw["products"]:
        presentation = {
            k: v for k, v in item.get("presentation", {}).items() if k in ("doses_per_vial", "open_vial_hours")
        } if "doses_per_vial" in fields else {}
        rule = ProductRule.from_dict({**item, "series_settings": series[item["series"]]})
        product_model.objects.update_or_create(
            code=item["code"],
            defaults={
                "name_zh": item["name_zh"], "name_en": item["name_en"],
                "manufacturer_en": item.get("manufacturer_en", ""), "platform": item["platform"],
                "series": item["series"], "doses_in_series": item["doses_in_series"],
                "schedule": rule.to_dict(),
                **presentation,
            },
        )
    return len(raw["products"])
