"""How numbers and durations read (config.numbers, the ``wording`` template filters)."""

import datetime
from decimal import Decimal

from django.utils import translation

from accounts.templatetags.wording import plain_number, time_left
from config.numbers import plain

NOW = datetime.datetime(2026, 12, 4, 9, 0, tzinfo=datetime.UTC)


def test_whole_numbers_have_no_trailing_zero():
    assert plain(Decimal("20.0")) == 20 and str(plain(Decimal("20.0"))) == "20"
    assert str(plain(Decimal("88.00"))) == "88"
    assert str(plain(Decimal("81.50"))) == "81.5"
    assert plain(0.0) == 0 and plain(2.5) == 2.5
    assert plain("20.0") == "20.0" and plain(None) is None and plain(True) is True
    assert str(plain_number(Decimal("0.0"))) == "0"


def test_the_time_left_reads_without_spaces_in_chinese():
    ends = NOW + datetime.timedelta(days=6, hours=12, minutes=5)
    with translation.override("zh-hans"):
        assert time_left(ends, NOW) == "6日12小时"
    with translation.override("en"):
        assert time_left(ends, NOW) == "6\xa0days, 12\xa0hours"
