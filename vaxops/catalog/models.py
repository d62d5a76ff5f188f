"""Vaccine products and their schedule rules, held as data."""

from __future__ import annotations

from functools import cached_property

from django.db import models
from django.db.models.signals import post_delete, post_save
from django.utils.translation import get_language

_RULES: dict[tuple[int, str], object] = {}


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
        """The pure rule object (``catalog.rules.ProductRule``) built from ``schedule``.

        Parsed once per process and product version: every dose assessment needs the rules of
        all products, and rebuilding them per request costs more than the queries around them.
        """
        from vaxops.catalog.rules import ProductRule

        key = (self.pk, self.code)
        rule = _RULES.get(key)
        if rule is None:
            rule = _RULES[key] = ProductRule.from_dict(self.schedule)
        return rule


def _forget_rules(sender, **kwargs) -> None:
    _RULES.clear()


post_save.connect(_forget_rules, sender=Product)
post_delete.connect(_forget_rules, sender=Product)
