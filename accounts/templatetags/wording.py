"""How numbers and durations read on the page, in either language."""

import re

from django import template
from django.utils import translation
from django.utils.timesince import timeuntil

from config.numbers import plain

register = template.Library()


@register.filter
def time_left(value, now=None) -> str:
    """The time until ``value`` in its two largest units: "6日12小时" in Chinese (Django's own filter writes
    "6 日，12 小时"), "6 days, 12 hours" in English."""
    text = timeuntil(value, now, depth=2)
    if (translation.get_language() or "").startswith("zh"):
        text = re.sub(r"\s*，\s*|\s+", "", text.replace("\xa0", " "))
    return text


@register.filter
def plain_number(value):
    """A number without a trailing ".0" when it is whole (88 rather than 88.0)."""
    return plain(value)
