"""Load the stock reasons of ``supply/data/reasons.json``."""


from django.db import migrations



def load(apps, schema_editor):
    from vaxops.supply.reasons import load_reasons

    load_reasons(apps.get_model("supply", "StockReason"))


class Migration(migrations.Migration):
    dependencies = [("supply", "0002_stores_ledger")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
