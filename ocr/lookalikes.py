"""Look-alike characters: what OCR (and a model copying OCR) reads in place of what.

Every table of look-alikes lives here. The tables differ on purpose: each is as wide as its use can
afford. A repair that a check digit confirms, or one made only where the position demands a digit,
can try many pairs; a fold applied to both sides of a comparison, or a repair nothing confirms,
must stay narrow, since every pair it adds lets more wrong values through.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from types import MappingProxyType

# Letters OCR reads in place of a digit, by the digit they stand for. Used where a position of a
# code must hold a digit (a resident id's body, a credit code's region, a card number, the MRZ's
# dates and check digits).
DIGIT_LOOKALIKES: Mapping[str, str] = MappingProxyType(
    {
        "O": "0",
        "Q": "0",
        "D": "0",
        "U": "0",
        "I": "1",
        "L": "1",
        "Z": "2",
        "S": "5",
        "G": "6",
        "B": "8",
        "T": "7",
    }
)

# Positions of printed codes that hold digits (resident ids, credit code regions, card numbers):
# a bar is also read for a 1 there.
CODE_TO_DIGIT = str.maketrans({**DIGIT_LOOKALIKES, "|": "1"})

# Positions of the MRZ that hold digits: in its OCR-B font an A is also read for a 4.
MRZ_TO_DIGIT = str.maketrans({**DIGIT_LOOKALIKES, "A": "4"})

# Positions of the MRZ that hold letters (the nationality and issuing state codes): the digits OCR
# reads in place of a letter, by the letter they stand for.
MRZ_TO_LETTER = str.maketrans(
    {"0": "O", "1": "I", "2": "Z", "5": "S", "6": "G", "8": "B", "4": "A"}
)

# The MRZ's sex position holds M, F, X or a filler: what OCR reads for each.
MRZ_SEX_LOOKALIKES: Mapping[str, str] = MappingProxyType(
    {"H": "M", "N": "M", "P": "F", "E": "F", "K": "<"}
)

# Marks OCR reads in place of the MRZ's filler <.
MRZ_FILLER_LOOKALIKES = "«‹〈≤"

# The letters a unified social credit code never holds (its alphabet leaves out I, O, S, V, Z),
# read as the character they stand for.
NOT_IN_CREDIT_CODE = str.maketrans({"I": "1", "O": "0", "S": "5", "Z": "2", "V": "U"})

# The letters a VIN never holds (I, O and Q), read as the digit they stand for.
NOT_IN_VIN = str.maketrans({"I": "1", "O": "0", "Q": "0"})

# The letters a licence plate's serial never holds (O and I), read as the digit they stand for.
NOT_IN_PLATE_SERIAL = str.maketrans({"O": "0", "I": "1"})

# The letters a line may hold in place of digits and still be read as a bank card number.
CARD_NUMBER_LOOKALIKES = "OILBSDZ|"

# Read as X in a resident id's check character: the multiplication sign and K.
ID_CHECK_X_LOOKALIKES = "×K"

# Read as 1 and as 0 in numbers printed in text (dates, digit groups): case as printed.
ONE_LOOKALIKES = "lI|"
ZERO_LOOKALIKES = "Oo"

# Read as 1 and 0 in a numeric value (a bank card's digits) wherever they stand.
ONE_ZERO_TO_DIGIT = str.maketrans(
    {**dict.fromkeys(ONE_LOOKALIKES, "1"), **dict.fromkeys(ZERO_LOOKALIKES, "0")}
)

# Grounding folds both the model's value and the OCR text with this table before comparing them.
# It is narrower than DIGIT_LOOKALIKES (no D, U or T): every pair it folds makes more different
# codes count as the same, and so more invented ones count as printed.
GROUNDING_FOLD = str.maketrans(
    {"O": "0", "Q": "0", "I": "1", "L": "1", "|": "1", "Z": "2", "S": "5", "B": "8", "G": "6"}
)


def digit_fixer(*, ones: str, zeros: str) -> Callable[[str], str]:
    """A function reading the characters of ``ones`` as 1 where they touch a digit, then those of
    ``zeros`` as 0 where they touch a digit or a date's separator (年, 月, 日, '.', '/', '-')."""
    # Each character once: upper-casing a case-sensitive set can repeat one (Oo is OO).
    one_class = f"[{re.escape(''.join(dict.fromkeys(ones)))}]"
    zero_class = f"[{re.escape(''.join(dict.fromkeys(zeros)))}]"
    one_re = re.compile(rf"(?<=\d){one_class}|{one_class}(?=\d)")
    zero_re = re.compile(rf"(?<=[\d年月./\-]){zero_class}|{zero_class}(?=[\d年月日./\-])")

    def fix(text: str) -> str:
        return zero_re.sub("0", one_re.sub("1", text))

    return fix
