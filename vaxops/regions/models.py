"""The tree of administrative divisions, from province down to the grid."""

from __future__ import annotations

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

AGE_BANDS = ("0-2", "3-11", "12-17", "18-59", "60+")


def age_band(age_years: int) -> str:
    """The population age band (census bands used for targets) of an age in whole years."""
    if age_years < 3:
        return "0-2"
    if age_years < 12:
        return "3-11"
    if age_years < 18:
        return "12-17"
    if age_years < 60:
        return "18-59"
    return "60+"


class Level(models.IntegerChoices):
    PROVINCE = 1, _("province")
    PREFECTURE = 2, _("prefecture")
    COUNTY = 3, _("county")
    TOWNSHIP = 4, _("township")
    VILLAGE = 5, _("village / community")
    GRID = 6, _("grid")


class Division(models.Model):
    """An administrative division with its real code and its population by age band.

    ``path`` holds the codes from the root down to this division ("510000/513300/513301/"), so
    a subtree is one indexed prefix query (``path__startswith``) on any database.
    """

    code = models.CharField(max_length=15, unique=True)
    level = models.PositiveSmallIntegerField(choices=Level.choices)
    parent = models.ForeignKey("self", null=True, blank=True, related_name="children", on_delete=models.PROTECT)
    path = models.CharField(max_length=120, unique=True)
    name_zh = models.CharField(max_length=64)
    name_en = models.CharField(max_length=64, blank=True)
    is_border = models.BooleanField(default=False)
    is_urban = models.BooleanField(default=False)
    # Names generated for the demo are labelled so nobody mistakes them for real places.
    is_synthetic = models.BooleanField(default=False)
    pop_0_2 = models.PositiveIntegerField(default=0)
    pop_3_11 = models.PositiveIntegerField(default=0)
    pop_12_17 = models.PositiveIntegerField(default=0)
    pop_18_59 = models.PositiveIntegerField(default=0)
    pop_60_plus = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def save(self, *args, **kwargs):
        self.path = self.build_path()
        super().save(*args, **kwargs)

    @property
    def name(self) -> str:
        """The name in the active language (Chinese unless English is chosen and known)."""
        if (get_language() or "").startswith("en") and self.name_en:
            return self.name_en
        return self.name_zh

    @property
    def population(self) -> int:
        return self.pop_0_2 + self.pop_3_11 + self.pop_12_17 + self.pop_18_59 + self.pop_60_plus

    @property
    def population_18_plus(self) -> int:
        return self.pop_18_59 + self.pop_60_plus

    @property
    def county_code(self) -> str:
        """The county (or higher) code this division belongs to; hot rows carry it for sharding."""
        return self.code[:6]

    def build_path(self) -> str:
        return (self.parent.path if self.parent_id else "") + self.code + "/"

    def subtree(self) -> models.QuerySet[Division]:
        return Division.objects.filter(path__startswith=self.path)
