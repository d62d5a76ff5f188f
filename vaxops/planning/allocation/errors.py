"""The one error a bad or infeasible allocation problem raises."""

from __future__ import annotations


class AllocationError(ValueError):
    """A problem the allocation optimiser cannot solve.

    ``code`` is stable and machine-readable (``missing_field``, ``negative_value``,
    ``invalid_value``, ``unknown_product``, ``duplicate_code``, ``infeasible_minimums``,
    ``bad_problem_file``; listed in ``docs/allocation.md``); ``field`` is the path of the
    offending field (``children[3].capacity``) and the message names it too.
    """

    def __init__(self, code: str, message: str, field: str = "") -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.code = code
        self.field = field
        self.message = message

    def as_dict(self) -> dict[str, str]:
        """The error in the project's API shape: ``{"code", "message", "field"}``."""
        return {"code": self.code, "message": str(self), "field": self.field}
