"""The allocation problem: products, supply at the parent store, and its children.

``parse_problem`` turns the JSON problem format (``docs/allocation.md``) into a validated
``Problem``; every bad input raises ``AllocationError`` with a stable code and the path of
the field. Dose counts are whole numbers: a dose is given to a person or not at all.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import AllocationError
from .needs import MicroplanNeeds, microplan_needs


@dataclass(frozen=True)
class Product:
    """A vaccine product at the parent store."""

    code: str
    platform: str
    """Products of one platform may complete each other's series (NHC guideline 2021)."""
    package_size: int
    """Doses per box: shipments are whole boxes."""
    supply: int
    """Doses at the parent store available to share out."""


@dataclass(frozen=True)
class Child:
    """A store that receives stock from the parent: a county, or a site."""

    code: str
    capacity: int
    """Doses the child can give in the planning horizon, second and first doses together."""
    first_dose_demand: int
    """Eligible people still without a first dose, up to the coverage target."""
    weight: float = 1.0
    """Priority tilt of first doses: 2 for a mass site, 1.5 for a border area, 1 by default."""
    second_dose_due: Mapping[str, int] = field(default_factory=dict)
    """Second doses falling due in the horizon, by the product of the series."""
    stock_on_hand: Mapping[str, int] = field(default_factory=dict)
    minimum: int = 0
    """Doses that must be shipped to the child (a guarantee such as a mass site's)."""
    maximum: int | None = None
    """Doses that may be shipped to the child at most; ``None`` for no limit."""
    name: str = ""
    population: int | None = None
    """Total population, used only by the proportional-shares comparison."""
    microplan: MicroplanNeeds | None = None
    """Needs computed from a ``microplan`` section, when the problem gave one."""


@dataclass(frozen=True)
class Problem:
    """A validated allocation problem."""

    products: tuple[Product, ...]
    children: tuple[Child, ...]
    name: str = ""

    def product(self, code: str) -> Product:
        """The product with this code."""
        for product in self.products:
            if product.code == code:
                return product
        raise KeyError(code)


def _count(value: Any, path: str, *, required: bool = True, default: int = 0) -> int:
    """A non-negative whole number of doses or people at ``path``."""
    if value is None:
        if required:
            raise AllocationError("missing_field", "is required (a non-negative whole number)", path)
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AllocationError("invalid_value", f"must be a number, got {value!r}", path)
    if not math.isfinite(value):
        raise AllocationError("invalid_value", f"must be finite, got {value!r}", path)
    if value < 0:
        raise AllocationError("negative_value", f"must not be negative, got {value!r}", path)
    if value != int(value):
        raise AllocationError("invalid_value", f"must be a whole number, got {value!r}", path)
    return int(value)


def _number(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise AllocationError("invalid_value", f"must be a finite number, got {value!r}", path)
    return float(value)


def _mapping(value: Any, path: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise AllocationError("invalid_value", "must be an object keyed by product code", path)
    return value


def _by_product(value: Any, path: str, products: Mapping[str, Any]) -> dict[str, int]:
    result: dict[str, int] = {}
    for code, amount in _mapping(value, path).items():
        if code not in products:
            raise AllocationError(
                "unknown_product", f"product {code!r} is not in 'products'", f"{path}.{code}"
            )
        result[code] = _count(amount, f"{path}.{code}")
    return result


def _microplan(value: Any, path: str) -> MicroplanNeeds:
    section = _mapping(value, path)
    known = {
        "target_population",
        "coverage_target",
        "doses_per_person",
        "wastage_rate",
        "buffer_doses",
        "stock_on_hand",
        "already_vaccinated",
    }
    for key in section:
        if key not in known:
            raise AllocationError("invalid_value", f"unknown microplan field {key!r}", f"{path}.{key}")
    for key in ("target_population", "coverage_target"):
        if key not in section:
            raise AllocationError("missing_field", "is required in a microplan section", f"{path}.{key}")
    numbers = {key: _number(v, f"{path}.{key}") for key, v in section.items()}
    for key, v in numbers.items():
        if v < 0:
            raise AllocationError("negative_value", f"must not be negative, got {v!r}", f"{path}.{key}")
    numbers.setdefault("doses_per_person", 1.0)
    try:
        return microplan_needs(**numbers)
    except ValueError as error:
        raise AllocationError("invalid_value", str(error), path)


def parse_problem(data: Any) -> Problem:
    """Validate the JSON problem format and build a ``Problem``.

    Raises ``AllocationError`` naming the first bad field. Zero supply and zero demand are
    valid: they give an all-zero allocation, which is the truthful answer to such a problem.
    """
    if not isinstance(data, Mapping):
        raise AllocationError("invalid_value", "the problem must be a JSON object", "")
    for key in ("products", "supply", "children"):
        if key not in data:
            raise AllocationError("missing_field", "is required", key)
    raw_products = _mapping(data["products"], "products")
    if not raw_products:
        raise AllocationError("missing_field", "must list at least one product", "products")
    supply = _mapping(data["supply"], "supply")
    for code in supply:
        if code not in raw_products:
            raise AllocationError(
                "unknown_product", f"product {code!r} is not in 'products'", f"supply.{code}"
            )
    products: list[Product] = []
    for code, spec in raw_products.items():
        path = f"products.{code}"
        spec = _mapping(spec, path)
        platform = spec.get("platform")
        if not isinstance(platform, str) or not platform:
            raise AllocationError("missing_field", "is required (a platform name)", f"{path}.platform")
        package_size = _count(spec.get("package_size"), f"{path}.package_size")
        if package_size < 1:
            raise AllocationError("invalid_value", "must be at least 1 dose", f"{path}.package_size")
        if code not in supply:
            raise AllocationError("missing_field", f"no supply given for product {code!r}", f"supply.{code}")
        products.append(Product(str(code), platform, package_size, _count(supply[code], f"supply.{code}")))

    raw_children = data["children"]
    if not isinstance(raw_children, list):
        raise AllocationError("invalid_value", "must be a list of children", "children")
    children: list[Child] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_children):
        path = f"children[{index}]"
        if not isinstance(raw, Mapping):
            raise AllocationError("invalid_value", "must be an object", path)
        code = raw.get("code")
        if not isinstance(code, str | int) or isinstance(code, bool) or str(code) == "":
            raise AllocationError("missing_field", "is required (the child's code)", f"{path}.code")
        code = str(code)
        if code in seen:
            raise AllocationError("duplicate_code", f"child {code!r} appears twice", f"{path}.code")
        seen.add(code)
        weight = _number(raw.get("weight", 1.0), f"{path}.weight")
        if weight <= 0:
            code_name = "negative_value" if weight < 0 else "invalid_value"
            raise AllocationError(code_name, f"must be positive, got {weight!r}", f"{path}.weight")
        micro = (
            _microplan(raw["microplan"], f"{path}.microplan") if raw.get("microplan") is not None else None
        )
        if raw.get("first_dose_demand") is None and micro is not None:
            demand = micro.first_dose_demand
        else:
            demand = _count(raw.get("first_dose_demand"), f"{path}.first_dose_demand")
        minimum = _count(raw.get("min"), f"{path}.min", required=False)
        maximum = None if raw.get("max") is None else _count(raw.get("max"), f"{path}.max")
        if maximum is not None and minimum > maximum:
            raise AllocationError(
                "infeasible_minimums",
                f"min {minimum} is above max {maximum} for child {code!r}",
                f"{path}.min",
            )
        children.append(
            Child(
                code=code,
                capacity=_count(raw.get("capacity"), f"{path}.capacity"),
                first_dose_demand=demand,
                weight=weight,
                second_dose_due=_by_product(
                    raw.get("second_dose_due"), f"{path}.second_dose_due", raw_products
                ),
                stock_on_hand=_by_product(raw.get("stock_on_hand"), f"{path}.stock_on_hand", raw_products),
                minimum=minimum,
                maximum=maximum,
                name=str(raw.get("name", "")),
                population=(
                    None if raw.get("population") is None else _count(raw["population"], f"{path}.population")
                ),
                microplan=micro,
            )
        )
    name = data.get("name", "")
    return Problem(tuple(products), tuple(children), str(name) if name else "")
