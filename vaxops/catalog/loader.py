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
    for item in raw["products"]:
        rule = ProductRule.from_dict({**item, "series_settings": series[item["series"]]})
        product_model.objects.update_or_create(
            code=item["code"],
            defaults={
                "name_zh": item["name_zh"], "name_en": item["name_en"],
                "manufacturer_en": item.get("manufacturer_en", ""), "platform": item["platform"],
                "series": item["series"], "doses_in_series": item["doses_in_series"],
                "schedule": rule.to_dict(),
            },
        )
    return len(raw["products"])
