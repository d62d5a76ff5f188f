"""Vaccine products and their schedule rules, held as data."""

from __future__ import annotations

import time
from functools import cached_property

from django.db import DatabaseError, models
from django.db.models.signals import post_delete, post_save
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

_RULES: dict[tuple[int, str], object] = {}

#: What a vaccine platform (``Product.platform``, ``products.json``) is called in messages; a
#: platform missing here reads as its code until it is added.
PLATFORM_NAMES = {
    "inactivated": _("inactivated vaccine"),
    "adenovirus_vector": _("adenovirus-vector vaccine"),
    "recombinant_protein": _("recombinant-protein vaccine"),
}


def in_english() -> bool:
    """Whether the active language is English (else names read in Chinese, the default)."""
    return (get_language() or "").startswith("en")


def platform_name(code: str) -> str:
    """The platform's name in the active language ("inactivated" → 灭活疫苗 / inactivated vaccine)."""
    name = PLATFORM_NAMES.get(code)
    return code if name is None else str(name)


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
    # Presentation (products.json "presentation"): doses in one vial, and how many hours an
    # opened multi-dose vial may be used (the end of the session ends it sooner).
    doses_per_vial = models.PositiveSmallIntegerField(default=1)
    open_vial_hours = models.PositiveSmallIntegerField(default=6)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    @property
    def name(self) -> str:
        return self.name_en if in_english() else self.name_zh

    @property
    def platform_name(self) -> str:
        return platform_name(self.platform)

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


# code -> (name_zh, name_en) of every product, for messages (see product_name); kept per
# process for NAMES_TTL seconds and dropped at once when this process saves or deletes a
# product, so a name changed in another process reads the old way for at most NAMES_TTL.
NAMES_TTL = 30.0
_NAMES: dict[str, tuple[str, str]] = {}
_names_expire = 0.0


def product_name(code: str) -> str:
    """The name of product ``code`` in the active language, or ``code`` itself when no product
    has it (an unknown code someone typed reads back as typed)."""
    global _NAMES, _names_expire
    now = time.monotonic()
    if _names_expire <= now:
        try:
            rows = Product.objects.order_by().values_list("code", "name_zh", "name_en")
            fresh = {c: (zh, en) for c, zh, en in rows}
        except DatabaseError:
            # A message is no reason to fail a request: without the table, codes are shown.
            fresh = {}
        # Replaced whole, never emptied in place: another thread reads it meanwhile.
        _NAMES = fresh
        _names_expire = now + NAMES_TTL if fresh else 0.0
    names = _NAMES.get(code)
    if names is None:
        return code
    return names[1] if in_english() else names[0]


def _forget_rules(sender, **kwargs) -> None:
    global _names_expire
    _RULES.clear()
    _names_expire = 0.0


post_save.connect(_forget_rules, sender=Product)
post_delete.connect(_forget_rules, sender=Product)
