"""Load the vaccine products and their schedule rules from catalog/data/products.json."""

from django.db import migrations


def load(apps, schema_editor):
    from vaxops.catalog.loader import load_catalog

    load_catalog(apps.get_model("catalog", "Product"))


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
