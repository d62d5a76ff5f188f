"""Vaccine products and their schedule rules, held as data."""

from __future__ import annotations

from functools import cached_property

from django.db import models
from django.utils.translation import get_language


class Product(models.Model):
    """A vaccine product. ``schedule`` holds the full rule set that ``catalog.rules`` reads
    (doses, intervals, due-by, effective-dated age rules, booster rule); the columns beside it
    are copies for querying and display."""

    code = models.CharField(max_length=32, unique=True)
    name_zh = models.CharField(max_length=120)
    name_en = models.CharField(max_length=120)
    manufacturer_en = models.CharField(max_length=120, blank=True)
    platform = models.CharField(max_length=40)
    series = models.CharField(max_length=32, default="COVID19")
    doses_in_series = models.PositiveSmallIntegerField()
    schedule = models.JSONField()
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "").startswith("en") else self.name_zh

    @cached_property
    def rule(self):
        """The pure rule object (``catalog.rules.ProductRule``) built from ``schedule``."""
        from vaxops.catalog.rules import ProductRule

        return ProductRule.from_dict(self.schedule)
