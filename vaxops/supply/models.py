"""Vaccine lots (the supply ledger extends this)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class LotStatus(models.TextChoices):
    RELEASED = "released", _("released")
    QUARANTINED = "quarantined", _("quarantined")
    RECALLED = "recalled", _("recalled")


class Lot(models.Model):
    """A manufacturer's lot of one product; traceability of every dose is per lot."""

    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="lots")
    lot_number = models.CharField(max_length=40)
    manufacturer = models.CharField(max_length=120, blank=True)
    expiry_date = models.DateField()
    status = models.CharField(max_length=12, choices=LotStatus.choices, default=LotStatus.RELEASED)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product", "lot_number"], name="lot_unique_per_product")]
        indexes = [models.Index(fields=["lot_number"])]
        ordering = ["product__code", "expiry_date", "lot_number"]

    def __str__(self) -> str:
        return f"{self.product_id}:{self.lot_number}"
