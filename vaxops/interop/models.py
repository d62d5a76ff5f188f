"""Import jobs and the outcome of every row they read (docs/imports.md)."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _


class JobState(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    INTERRUPTED = "interrupted", _("interrupted")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")


class Mode(models.TextChoices):
    ROWS = "rows", _("accept the good rows")
    ALL = "all", _("all or nothing")


class RowStatus(models.TextChoices):
    CREATED = "created", _("created")
    ALREADY_PRESENT = "already_present", _("already present")
    UPDATED = "updated", _("updated")
    REJECTED = "rejected", _("rejected")


class ImportJob(models.Model):
    """One file being imported: what it is, who imports it, and how far it has come.

    ``rows_done`` rows have their outcome committed (``ImportRow``); a job resumes from there.
    ``pending_from``/``pending_since`` mark the chunk being written: when a job resumes inside
    it, rows the batch service reports as already there are told apart from rows this job wrote
    (docs/imports.md "Resume").
    """

    kind = models.CharField(max_length=32)
    state = models.CharField(max_length=12, choices=JobState.choices, default=JobState.QUEUED)
    mode = models.CharField(max_length=4, choices=Mode.choices, default=Mode.ROWS)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Where the importer's area is, so jobs are listed through access.scope like users.
    division = models.ForeignKey("regions.Division", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    reason = models.CharField(max_length=200, blank=True)
    file_name = models.CharField(max_length=200)
    file_path = models.CharField(max_length=400)
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    format = models.CharField(max_length=4)  # csv | xlsx
    encoding = models.CharField(max_length=16, blank=True)  # as decoded (csv)
    source = models.CharField(max_length=8)
    chunk_size = models.PositiveIntegerField(default=500)
    rows = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    already_present = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    pending_from = models.IntegerField(null=True, blank=True)
    pending_since = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=80, blank=True)  # "pid:boot" of the process running it
    error_code = models.CharField(max_length=40, blank=True)
    error_detail = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state"]), models.Index(fields=["user", "created_at"])]

    def __str__(self) -> str:
        return f"import {self.pk} {self.kind} {self.state}"

    @property
    def percent(self) -> int:
        return 100 if not self.rows else int(100 * self.rows_done / self.rows)

    def totals(self) -> dict[str, int]:
        return {"created": self.created, "already_present": self.already_present, "updated": self.updated,
                "rejected": self.rejected}


class ImportRow(models.Model):
    """What became of one row of a job's file (row numbers as a spreadsheet shows them: the
    header is row 1). ``code``/``params`` give the rejection's message in any language."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_results")
    row_number = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=RowStatus.choices)
    column = models.CharField(max_length=40, blank=True)
    code = models.CharField(max_length=40, blank=True)
    params = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    object_id = models.BigIntegerField(null=True, blank=True)  # person or dose record

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "row_number"], name="import_row_once")]

    def __str__(self) -> str:
        return f"row {self.row_number} {self.status}"
