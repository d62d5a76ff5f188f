"""Reference data: residents of border areas as a key group (Jingxi's 应种尽种 on the border)."""

from django.db import migrations


def load(apps, schema_editor):
    PriorityGroup = apps.get_model("registry", "PriorityGroup")
    PriorityGroup.objects.update_or_create(
        code="border_residents", defaults={"name_zh": "边境地区居民", "name_en": "border-area residents", "rank": 25})


class Migration(migrations.Migration):
    dependencies = [("keygroups", "0001_initial"), ("registry", "0002_priority_groups")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
