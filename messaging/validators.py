"""Checks on what a sender types, kept apart so the API and the socket use the same ones."""

# NHS number weights for the first nine digits (NHS Data Dictionary, "NHS Number").
NHS_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)
NHS_DIGITS = 10


def is_valid_nhs_number(value: str) -> bool:
    """Return whether `value` is ten digits whose last is the Modulus 11 check digit."""
    digits = value.replace(" ", "")
    if len(digits) != NHS_DIGITS or not digits.isascii() or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], NHS_WEIGHTS, strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    # A remainder giving 10 means no valid number has these first nine digits.
    return check != 10 and check == int(digits[9])
