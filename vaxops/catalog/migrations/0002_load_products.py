"""Load the vaccine products and their schedule rules from catalog/data/products.json."""

import json
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data" / "products.json"


def load(apps, schema_editor):
    from vaxops.catalog.rules import ProductRule

    Product = apps.get_model("catalog", "Product")
    raw = json.loads(DATA.read_text(encoding="utf-8"))
    series = raw.get("series", {})
    for item in raw["products"]:
        rule = ProductRule.from_dict({**item, "series_rules": series.get(item["series"], {})})
        Product.objects.update_or_create(
            code=item["code"],
            defaults={
                "name_zh": item["name_zh"], "name_en": item["name_en"],
                "manufacturer_en": item.get("manufacturer_en", ""), "platform": item["platform"],
                "series": item["series"], "doses_in_series": item["doses_in_series"],
                "schedule": rule.to_dict(),
            },
        )


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
