import datetime

from django.db import migrations, models


def since_from_added(apps, schema_editor):
    """Existing members belong from the day they were added (in the campaign's time zone)."""
    from zoneinfo import ZoneInfo

    from django.conf import settings

    tz = ZoneInfo(settings.TIME_ZONE)
    membership = apps.get_model("keygroups", "Membership")
    days: dict[datetime.date, list[int]] = {}
    for pk, added in membership.objects.values_list("pk", "added_at").iterator(chunk_size=5000):
        days.setdefault(added.astimezone(tz).date(), []).append(pk)
    for day, ids in days.items():
        for start in range(0, len(ids), 500):
            membership.objects.filter(pk__in=ids[start:start + 500]).update(since=day)


class Migration(migrations.Migration):

    dependencies = [
        ("keygroups", "0002_border_residents"),
    ]

    operations = [
        migrations.AddField(
            model_name="membership",
            name="since",
            field=models.DateField(default=datetime.date(2000, 1, 1)),
            preserve_default=False,
        ),
        migrations.RunPython(since_from_added, migrations.RunPython.noop),
    ]
