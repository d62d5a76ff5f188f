"""Stores, lots and the stock ledger (docs/supply.md).

The ledger is append-only: a ``StockEvent`` with its ``StockLine`` rows is the only record of a
movement of stock; ``StockBalance`` is the balance of each store × lot kept in the same
transaction as each event (``vaxops.supply.ledger`` is its one writer) and rebuilt from the
lines by ``vaxops rebuild-stock``. A mistake is corrected by a reversing event that names the
one it reverses; nothing here is edited or deleted.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


def _english() -> bool:
    return (get_language() or "").startswith("en")


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
    # The product's presentation when the lot was received (1 = single-dose vial or syringe).
    doses_per_vial = models.PositiveSmallIntegerField(default=1)
    # 批签发: the batch-release certificate number.
    release_certificate = models.CharField(max_length=64, blank=True)
    status_reason = models.CharField(max_length=500, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product", "lot_number"], name="lot_unique_per_product"),
            models.CheckConstraint(condition=Q(doses_per_vial__gte=1), name="lot_doses_per_vial_positive"),
        ]
        indexes = [models.Index(fields=["lot_number"])]
        ordering = ["product__code", "expiry_date", "lot_number"]

    def __str__(self) -> str:
        return f"{self.product_id}:{self.lot_number}"


class StoreLevel(models.IntegerChoices):
    PREFECTURE = 2, _("prefecture store")
    COUNTY = 3, _("county store")
    TOWNSHIP = 4, _("township store")
    SITE = 5, _("site store")
    TEAM = 6, _("mobile team cold box")


class EquipmentClass(models.TextChoices):
    COLD_ROOM = "cold_room", _("cold room")
    REFRIGERATOR = "refrigerator", _("refrigerator")
    COLD_BOX = "cold_box", _("cold box")


class Store(models.Model):
    """A place that holds vaccine: a CDC cold room, a site's refrigerator, a team's cold box.

    ``parent`` is the normal supply route (a store receives from its parent, sends to its
    children, to a sibling under the same parent, or back to its parent). ``on_hold`` is set
    while the store has an open cold-chain excursion: no dose and no dispatch until reviewed.
    """

    code = models.CharField(max_length=32, unique=True)
    name_zh = models.CharField(max_length=120)
    name_en = models.CharField(max_length=120, blank=True)
    level = models.PositiveSmallIntegerField(choices=StoreLevel.choices)
    division = models.ForeignKey("regions.Division", on_delete=models.PROTECT, related_name="stores")
    county_code = models.CharField(max_length=6, blank=True, db_index=True)
    # Site and team stores belong to one site; a site draws its doses from its store.
    site = models.OneToOneField("sites.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="store")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    equipment_class = models.CharField(max_length=16, choices=EquipmentClass.choices,
                                       default=EquipmentClass.REFRIGERATOR)
    on_hold = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["level", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def name(self) -> str:
        return self.name_en if _english() and self.name_en else self.name_zh


class ReasonType(models.TextChoices):
    CREDIT = "credit", _("credit")
    DEBIT = "debit", _("debit")
    BALANCE_ADJUSTMENT = "balance_adjustment", _("balance adjustment")


class ReasonCategory(models.TextChoices):
    RECEIPT = "receipt", _("receipt")
    TRANSFER = "transfer", _("transfer")
    ADMINISTRATION = "administration", _("administration")
    ADJUSTMENT = "adjustment", _("adjustment")
    STOCK_COUNT = "stock_count", _("stock count")


class StockReason(models.Model):
    """Why stock moved; data (loaded from ``supply/data/reasons.json`` by a migration)."""

    code = models.CharField(max_length=32, unique=True)
    name_zh = models.CharField(max_length=80)
    name_en = models.CharField(max_length=80)
    type = models.CharField(max_length=20, choices=ReasonType.choices)
    category = models.CharField(max_length=16, choices=ReasonCategory.choices)
    # Offered in the adjustment form (the others are written by receipts, transfers, doses).
    manual = models.BooleanField(default=False)
    # A wastage reason counts in the wastage rate (broken, expired, cold chain, VVM, open vial…).
    is_wastage = models.BooleanField(default=False)

    class Meta:
        ordering = ["category", "code"]

    def __str__(self) -> str:
        return self.code

    @property
    def name(self) -> str:
        return self.name_en if _english() else self.name_zh


class StockEvent(models.Model):
    """One movement of stock, with its lines; never edited or deleted."""

    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    # The event's main reason (the lines carry their own; they agree but for a reversal's).
    reason = models.ForeignKey(StockReason, on_delete=models.PROTECT, related_name="+")
    document_number = models.CharField(max_length=64, blank=True)
    client_uuid = models.UUIDField(null=True, blank=True, unique=True)
    reverses = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="reversed_by")
    transfer = models.ForeignKey("Transfer", null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    # What the document said beyond the lines: manufacturer, release certificate, arrival
    # temperature, the counted figures of a stock count, the dose batch's first id…
    detail = models.JSONField(default=dict, blank=True)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [models.Index(fields=["occurred_at"])]

    def __str__(self) -> str:
        return f"event {self.pk} {self.reason_id}"


class StockLine(models.Model):
    """One store × lot's signed change within an event (doses; + credit, − debit)."""

    event = models.ForeignKey(StockEvent, on_delete=models.PROTECT, related_name="lines")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="lines")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="stock_lines")
    quantity = models.IntegerField()
    reason = models.ForeignKey(StockReason, on_delete=models.PROTECT, related_name="+")
    # A receive line has a source, an issue line a destination, an adjustment neither.
    source_store = models.ForeignKey(Store, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    destination_store = models.ForeignKey(Store, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    occurred_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["store", "lot"]), models.Index(fields=["lot", "store"])]
        constraints = [
            models.CheckConstraint(condition=~Q(quantity=0), name="stockline_quantity_nonzero"),
            models.CheckConstraint(
                condition=Q(source_store__isnull=True) | Q(destination_store__isnull=True),
                name="stockline_source_or_destination",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.store_id}×{self.lot_id} {self.quantity:+d}"


class StockBalance(models.Model):
    """The doses of one lot on hand in one store, kept with every event (never below zero).

    ``on_hold`` marks doses received without the journey's temperature record: on the books,
    not usable until the record is supplied.
    """

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="balances")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="balances")
    on_hand = models.IntegerField(default=0)
    on_hold = models.BooleanField(default=False)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "lot"], name="stockbalance_unique_store_lot"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stockbalance_never_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.store_id}×{self.lot_id}={self.on_hand}"


class TransferStatus(models.TextChoices):
    CREATED = "created", _("created")
    IN_TRANSIT = "in_transit", _("in transit")
    RECEIVED = "received", _("received")
    RECEIVED_ON_HOLD = "received_on_hold", _("received, on hold")
    REFUSED = "refused", _("refused")


class Transfer(models.Model):
    """Stock sent from one store to another: created → in transit → received (or refused)."""

    client_uuid = models.UUIDField(null=True, blank=True, unique=True)
    from_store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="transfers_out")
    to_store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="transfers_in")
    status = models.CharField(max_length=20, choices=TransferStatus.choices, default=TransferStatus.CREATED)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    dispatched_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    delivered_by = models.CharField(max_length=120, blank=True)
    arrival_temperature_c = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    allocation = models.ForeignKey("Allocation", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="transfers")
    document_number = models.CharField(max_length=64, blank=True)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [models.Index(fields=["to_store", "status"]), models.Index(fields=["from_store", "status"])]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"transfer {self.pk} {self.from_store_id}→{self.to_store_id} {self.status}"


class TransferLine(models.Model):
    """One lot of a transfer: shipped, then accepted + rejected = shipped on receipt."""

    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="lines")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="+")
    doses = models.PositiveIntegerField()
    accepted = models.PositiveIntegerField(null=True, blank=True)
    rejected = models.PositiveIntegerField(null=True, blank=True)
    rejection_reason = models.ForeignKey(StockReason, null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["transfer", "lot"], name="transferline_one_lot_once"),
            models.CheckConstraint(condition=Q(doses__gt=0), name="transferline_doses_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.transfer_id}:{self.lot_id} {self.doses}"


class ReadingSource(models.TextChoices):
    MANUAL = "manual", _("manual reading")
    LOGGER = "logger", _("data logger")


class TemperatureReading(models.Model):
    """A store's temperature at a moment (a manual morning/afternoon entry or a logger row)."""

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="readings")
    at = models.DateTimeField()
    celsius = models.DecimalField(max_digits=5, decimal_places=2)
    source = models.CharField(max_length=8, choices=ReadingSource.choices, default=ReadingSource.MANUAL)
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["store", "at", "source"], name="reading_unique_store_at")]
        indexes = [models.Index(fields=["store", "at"])]
        ordering = ["store", "at"]

    def __str__(self) -> str:
        return f"{self.store_id} {self.at:%Y-%m-%d %H:%M} {self.celsius} °C"


class ExcursionStatus(models.TextChoices):
    OPEN = "open", _("open")
    RELEASED = "released", _("released")
    DISCARDED = "discarded", _("discarded")


class Excursion(models.Model):
    """A cold-chain alarm (``supply/data/excursion_rules.json``): the store is on hold until
    someone reviews it (release, release after a VVM check, or discard)."""

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="excursions")
    rule = models.CharField(max_length=32)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    peak_celsius = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    status = models.CharField(max_length=10, choices=ExcursionStatus.choices, default=ExcursionStatus.OPEN)
    detected_at = models.DateTimeField()
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    vvm_checked = models.BooleanField(default=False)
    note = models.CharField(max_length=500, blank=True)
    discard_event = models.ForeignKey(StockEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["store", "rule", "started_at"], name="excursion_unique_start")]
        indexes = [models.Index(fields=["status", "store"])]
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.store_id} {self.rule} {self.status}"


class OpenVial(models.Model):
    """A multi-dose vial opened at a store: its unused doses are written off as open-vial
    wastage when the session closes or the product's open-vial window passes."""

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="open_vials")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    doses_left = models.PositiveSmallIntegerField()
    closed_at = models.DateTimeField(null=True, blank=True)
    close_event = models.ForeignKey(StockEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["store", "lot", "closed_at"])]

    def __str__(self) -> str:
        return f"{self.store_id}:{self.lot_id} {self.doses_left} left"


class AllocationStatus(models.TextChoices):
    PROPOSED = "proposed", _("proposed")
    APPROVED = "approved", _("approved")


class Allocation(models.Model):
    """A proposed split of a store's supply among its child stores (``vaxops.planning.allocation``
    decides it from live data); approving it creates the dispatched transfers."""

    from_store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="allocations")
    supply = models.JSONField()  # {product code: doses}
    status = models.CharField(max_length=10, choices=AllocationStatus.choices, default=AllocationStatus.PROPOSED)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    # The inputs read from live data and the engine's settings, kept for the explanation.
    inputs = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"allocation {self.pk} {self.status}"


class AllocationLine(models.Model):
    """One child store's share of one product in an allocation, with why."""

    allocation = models.ForeignKey(Allocation, on_delete=models.PROTECT, related_name="lines")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    doses = models.PositiveIntegerField()
    first_doses = models.PositiveIntegerField(default=0)
    second_doses = models.PositiveIntegerField(default=0)
    binding = models.CharField(max_length=32, blank=True)
    explanation = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["allocation", "store", "product"], name="allocationline_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.allocation_id}:{self.store_id} {self.product_id} {self.doses}"
