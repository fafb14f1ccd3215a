"""Unified social credit code (统一社会信用代码), GB 32100-2015.

18 characters from a 31-character alphabet (digits and capital letters without I, O, S, V, Z):
registration authority (1), organisation type (1), administrative division code (6 digits), organisation
code (9), check character (1). The check character is ``31 - (Σ value(cᵢ)·3ⁱ mod 31) mod 31`` over the
first 17 characters, i counted from 0, mapped back to the alphabet (so 31 gives "0").
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_VALUE = {ch: i for i, ch in enumerate(CREDIT_CODE_ALPHABET)}


def credit_code_check_character(first17: str) -> str:
    """The check character for the first 17 characters of a code (which must be in the alphabet)."""
    total = sum(_VALUE[ch] * w for ch, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> None:
    if len(value) != 18:
        raise ValidationError(
            _("统一社会信用代码应为18位，当前为%(n)d位。"),
            code="credit_code_length",
            params={"n": len(value)},
        )
    bad = sorted({ch for ch in value if ch not in _VALUE})
    if bad:
        raise ValidationError(
            _("统一社会信用代码含有不允许的字符：%(chars)s（只允许数字和除 I、O、S、V、Z 以外的大写字母）。"),
            code="credit_code_characters",
            params={"chars": "".join(bad)},
        )
    if not value[2:8].isdigit():
        raise ValidationError(
            _("统一社会信用代码第3-8位应为行政区划代码（6位数字）。"), code="credit_code_division"
        )
    if credit_code_check_character(value[:17]) != value[17]:
        raise ValidationError(_("统一社会信用代码校验位不正确，请核对后重新输入。"), code="credit_code_check")


def normalise_credit_code(value: str) -> str:
    """What a person types (spaces, lower case, full-width characters) to the stored form."""
    if not value:
        return value
    halfwidth = "".join(chr(ord(c) - 0xFEE0) if "\uff01" <= c <= "\uff5e" else c for c in value)
    return "".join(halfwidth.split()).upper()


# Resident identity card number (公民身份号码), GB 11643-1999: 17 digits and a check character.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def validate_id_number(value: str) -> None:
    if len(value) != 18 or not (value.isascii() and value[:17].isdigit()) or value[17] not in "0123456789X":
        raise ValidationError(_("身份证号码应为18位：17位数字加1位校验码（数字或X）。"), code="id_format")
    if ID_CHECK[sum(int(d) * w for d, w in zip(value[:17], ID_WEIGHTS, strict=True)) % 11] != value[17]:
        raise ValidationError(_("身份证号码校验位不正确，请核对。"), code="id_check")
