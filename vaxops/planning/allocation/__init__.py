"""The vaccine allocation optimiser: split a parent store's supply among its children.

Pure Python on numpy and scipy (HiGHS); no Django import. ``parse_problem`` validates the
JSON problem format, ``allocate`` applies the policy in ``solver`` and returns an
``AllocationResult``; ``microplan_needs`` is the WHO needs calculator. See
``docs/allocation.md``.
"""

from .errors import AllocationError
from .model import Child, Problem, Product, parse_problem
from .needs import MicroplanNeeds, microplan_needs
from .solver import AllocationResult, ChildOutcome, ProductAllocation, allocate

__all__ = [
    "AllocationError",
    "AllocationResult",
    "Child",
    "ChildOutcome",
    "MicroplanNeeds",
    "Problem",
    "Product",
    "ProductAllocation",
    "allocate",
    "microplan_needs",
    "parse_problem",
]
