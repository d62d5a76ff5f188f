"""Reference data: the campaign's priority groups (rows, so a campaign can add its own)."""

from django.db import migrations

GROUPS = [
    ("medical_staff", "医务人员", "medical staff", 10),
    ("border_port_staff", "口岸及边境工作人员", "border and port staff", 20),
    ("cold_chain_staff", "冷链从业人员", "cold-chain workers", 30),
    ("public_service", "公共服务人员", "public service workers", 40),
    ("teachers", "教师", "teachers", 50),
    ("university_students", "高校学生", "university students", 60),
    ("monastics", "寺庙僧尼", "monastics", 70),
]


def load(apps, schema_editor):
    PriorityGroup = apps.get_model("registry", "PriorityGroup")
    for code, zh, en, rank in GROUPS:
        PriorityGroup.objects.update_or_create(code=code, defaults={"name_zh": zh, "name_en": en, "rank": rank})


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
