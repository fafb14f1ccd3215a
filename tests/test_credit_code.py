import pytest
from django.core.exceptions import ValidationError

from accounts.forms import CreditCodeField
from accounts.validators import credit_code_check_character, validate_credit_code

# Real, published codes of two well-known companies; their check characters were computed by the
# issuing authority, so they test the weights and the alphabet independently of our own arithmetic.
REAL_CODES = ["9144030071526726XG", "91110108551385082Q"]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_are_valid(code):
    validate_credit_code(code)


def test_check_character_worked_by_hand():
    # 91500000MA5UDEM01: values 9,1,5,0,0,0,0,0,21(M),10(A),5,27(U),13(D),14(E),21(M),0,1
    # weights 3^i mod 31: 1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28
    # Σ = 9+3+45+0+0+0+0+0+420+290+125+351+104+336+210+0+28 = 1921; 1921 mod 31 = 30; 31-30 = 1 -> "1"
    assert credit_code_check_character("91500000MA5UDEM01") == "1"
    validate_credit_code("91500000MA5UDEM011")


def test_check_character_31_maps_to_zero():
    # A sum divisible by 31 gives 31 - 0 = 31, which the standard writes as "0".
    assert credit_code_check_character("0" * 17) == "0"


@pytest.mark.parametrize("code", ["9144030071526726XH", "91110108551385082R", "91500000MA5UDEM012"])
def test_wrong_check_character(code):
    with pytest.raises(ValidationError) as exc:
        validate_credit_code(code)
    assert exc.value.code == "credit_code_check"


@pytest.mark.parametrize("code", ["9144030071526726X", "9144030071526726XGG", "", "91440300"])
def test_wrong_length(code):
    with pytest.raises(ValidationError) as exc:
        validate_credit_code(code)
    assert exc.value.code == "credit_code_length"


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z"])
def test_letters_outside_the_alphabet(letter):
    with pytest.raises(ValidationError) as exc:
        validate_credit_code("91440300715267" + letter + "6XG")
    assert exc.value.code == "credit_code_characters"


def test_division_code_must_be_digits():
    first17 = "91A40300715267266"
    with pytest.raises(ValidationError) as exc:
        validate_credit_code(first17 + credit_code_check_character(first17))
    assert exc.value.code == "credit_code_division"


def test_lowercase_is_not_a_stored_form():
    with pytest.raises(ValidationError) as exc:
        validate_credit_code("9144030071526726xg")
    assert exc.value.code == "credit_code_characters"


@pytest.mark.parametrize(
    "typed", ["9144030071526726xg", " 91440300 71526726XG ", "９１４４０３００７１５２６７２６ＸＧ"]
)
def test_form_field_accepts_what_people_type(typed):
    assert CreditCodeField().clean(typed) == "9144030071526726XG"


def test_form_field_still_rejects_a_wrong_check_character_in_lowercase():
    with pytest.raises(ValidationError):
        CreditCodeField().clean("9144030071526726xh")
