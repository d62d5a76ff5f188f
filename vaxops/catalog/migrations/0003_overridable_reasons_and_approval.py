"""Carry the series' overridable reasons and each product's first approval date into the stored
rules (Product.schedule), so that existing databases refuse hard overrides too."""

from django.db import migrations


def load(apps, schema_editor):
    from vaxops.catalog.loader import load_catalog

    load_catalog(apps.get_model("catalog", "Product"))


def strip(apps, schema_editor):
    # Back to the rules of 0002: without the list nothing is overridable, the safe reading.
    Product = apps.get_model("catalog", "Product")
    for product in Product.objects.all():
        schedule = dict(product.schedule)
        schedule.pop("approved_on", None)
        schedule["series_settings"] = {
            k: v for k, v in schedule.get("series_settings", {}).items() if k != "overridable_reasons"
        }
        product.schedule = schedule
        product.save(update_fields=["schedule"])


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_load_products")]
    operations = [migrations.RunPython(load, strip)]
