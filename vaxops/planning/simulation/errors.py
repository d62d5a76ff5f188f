"""The one error a bad simulation config raises."""

from __future__ import annotations


class SimulationConfigError(ValueError):
    """A config the simulator cannot run.

    ``code`` is stable and machine-readable (``bad_time``, ``unknown_distribution``,
    ``no_stages``, ``negative_value`` …, listed in ``docs/simulation.md``); ``field`` is the
    path of the offending field (``stages[1].service.mode``) and the message names it too.
    """

    def __init__(self, code: str, message: str, field: str = "") -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.code = code
        self.field = field
        self.message = message

    def as_dict(self) -> dict[str, str]:
        """The error in the project's API shape: ``{"code", "message", "field"}``."""
        return {"code": self.code, "message": str(self), "field": self.field}
