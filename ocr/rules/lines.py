"""OCR lines as the rules extractor sees them: cleaned, and told apart from noise."""

from __future__ import annotations

import re
import unicodedata

# Where OCR merged two columns into one line, the columns stay apart by this gap.
GAP = "   "
NOISE_CHARS = set("|丨一—–-_'‘’\"`·•・.。,，:：;；~!！Il1()（）[]【】<>《》 ")
# A text this short made of NOISE_CHARS only is a stray mark, not a value.
_MAX_NOISE_LENGTH = 3
_NOISE_WORDS = re.compile(
    r"^(国徽|\(?[副正]\s*本\)?|\(\d-\d\)|二维码|照片|PHOTO|[\W_]{1,4})$", re.IGNORECASE
)
_WIDE_GAP_RE = re.compile(r"\s{3,}")

# Document titles: printed on every card of a kind, never a field's value.
_TITLE = re.compile(
    r"^(?:中华人民共和国|居民身份证|机动车驾驶证|机动车行驶证|营业执照|护照|PASSPORT|\s)+$"
    r"|^(?:Driving|Vehicle) License of the People'?s Republic of China$",
    re.IGNORECASE,
)


def clean_line(raw: str) -> str:
    """NFKC (full-width to half-width) with white space made one space, except that a wide gap
    (where OCR merged two columns into one line) is kept as three spaces."""
    parts = _WIDE_GAP_RE.split(unicodedata.normalize("NFKC", raw).strip())
    # The parts of a stripped line have no white space at their ends: a run there is the gap.
    return GAP.join(" ".join(part.split()) for part in parts)


def is_noise(text: str) -> bool:
    """Stray marks, emblems and titles OCR reads as lines: |, 一, —, ', ::, l1, 国徽, (副本),
    居民身份证."""
    text = text.strip()
    if not text or _TITLE.match(text):
        return True
    if len(text) <= _MAX_NOISE_LENGTH and set(text) <= NOISE_CHARS:
        return True
    return bool(_NOISE_WORDS.match(text))
