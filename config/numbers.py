"""Numbers as people write them: 8 rather than 8.0, 20 rather than 20.0, 2.5 as it is."""

from decimal import Decimal


def plain(value):
    """Whole numbers (int, float or Decimal) without a fraction; other values unchanged (a Decimal keeps
    its significant places only: 81.50 reads 81.5)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return value
    if isinstance(value, float) and not value.is_integer():
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            return value
        if value == value.to_integral_value():
            return int(value)
        return value.normalize()
    return int(value)
