"""Finding, repairing and parsing TD1 (identity card) and TD2 zones in phone OCR lines.

The specimens are ICAO 9303's (part 5 and 6), as peer MRZ libraries use them in their tests.
"""

from ocr.mrz import find_mrz

TD1 = [
    "I<UTOD231458907<<<<<<<<<<<<<<<",
    "7408122F1204159UTO<<<<<<<<<<<6",
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
]
TD2 = [
    "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
    "D231458907UTO7408122F1204159<<<<<<<6",
]


def _fields(mrz):
    return (
        mrz.passport_number,
        mrz.surname,
        mrz.given_names,
        mrz.nationality,
        mrz.issuing_country,
        mrz.birth_date,
        mrz.sex,
        mrz.expiry_date,
    )


SPECIMEN = (
    "D23145890",
    "ERIKSSON",
    "ANNA MARIA",
    "UTO",
    "UTO",
    "1974-08-12",
    "female",
    "2012-04-15",
)


def test_parses_the_icao_td1_specimen():
    mrz = find_mrz(TD1)

    assert mrz is not None and mrz.format == "TD1"
    assert mrz.valid
    assert _fields(mrz) == SPECIMEN


def test_parses_the_icao_td2_specimen():
    mrz = find_mrz(TD2)

    assert mrz is not None and mrz.format == "TD2"
    assert mrz.valid
    assert _fields(mrz) == SPECIMEN


def test_td1_checks_its_four_check_digits():
    assert set(find_mrz(TD1).checks) == {"passportNumber", "birthDate", "expiryDate", "composite"}


def test_a_failing_td1_expiry_check_digit_is_reported():
    mrz = find_mrz([TD1[0], TD1[1].replace("F1204159", "F1204169"), TD1[2]])

    assert mrz is not None
    assert not mrz.checks["expiryDate"]
    assert not mrz.valid


def test_td1_letters_in_dates_and_digits_in_codes_and_names_are_read_by_position():
    lines = [
        "I<UT0D231458907<<<<<<<<<<<<<<<",
        "74O8I22F12O4I59UT0<<<<<<<<<<<6",
        "ER1K55ON<<ANNA<MAR1A<<<<<<<<<<",
    ]
    mrz = find_mrz(lines)

    assert mrz is not None and mrz.valid
    assert _fields(mrz) == SPECIMEN


def test_a_document_number_letter_is_kept_as_printed_though_its_check_fails():
    # A document number holds letters and digits alike: reading its O as 0 would invent one.
    mrz = find_mrz([TD1[0].replace("D231458907", "D2314589O7"), TD1[1], TD1[2]])

    assert mrz is not None
    assert mrz.passport_number == "D2314589O"
    assert not mrz.checks["passportNumber"]


def test_td1_in_lower_case_with_spaces_and_guillemets():
    lines = [TD1[0].lower().replace("<<<", "<«<"), TD1[1][:15] + " " + TD1[1][15:], TD1[2]]
    mrz = find_mrz(lines)

    assert mrz is not None and mrz.valid
    assert _fields(mrz) == SPECIMEN


def test_a_td1_line_split_in_two_is_joined():
    mrz = find_mrz(["IDENTITY CARD", TD1[0][:14], TD1[0][14:], TD1[1], TD1[2]])

    assert mrz is not None and mrz.valid
    assert mrz.passport_number == "D23145890"


def test_two_td1_lines_read_as_one_are_cut_apart():
    mrz = find_mrz([TD1[0] + TD1[1], TD1[2]])

    assert mrz is not None and mrz.valid


def test_one_filler_too_many_and_one_too_few_in_td1():
    lines = [TD1[0] + "<", TD1[1].replace("<<<<<", "<<<<", 1), TD1[2]]
    mrz = find_mrz(lines)

    assert mrz is not None and mrz.valid
    assert _fields(mrz) == SPECIMEN


def test_filler_runs_read_as_k_in_td1():
    lines = [TD1[0].replace("<<<<<", "<KK<<", 1), TD1[1], TD1[2].replace("<<<<<<<", "<<KKKKK")]
    mrz = find_mrz(lines)

    assert mrz is not None and mrz.valid
    assert mrz.given_names == "ANNA MARIA"


def test_stray_marks_in_a_td1_line_are_dropped():
    mrz = find_mrz([TD1[0], TD1[1][:7] + "." + TD1[1][7:], "|", TD1[2]])

    assert mrz is not None and mrz.valid


def test_td1_lines_read_out_of_order():
    mrz = find_mrz([TD1[1], TD1[2], TD1[0]])

    assert mrz is not None and mrz.valid


def test_a_td2_names_line_missing_its_trailing_fillers():
    mrz = find_mrz([TD2[0].rstrip("<"), TD2[1]])

    assert mrz is not None and mrz.valid
    assert (mrz.surname, mrz.given_names) == ("ERIKSSON", "ANNA MARIA")


def test_td2_letters_in_dates_are_read_as_digits():
    mrz = find_mrz([TD2[0], TD2[1].replace("7408122F1204159", "74O8122FI2O4I59")])

    assert mrz is not None and mrz.valid
    assert (mrz.birth_date, mrz.expiry_date) == ("1974-08-12", "2012-04-15")


def test_a_td2_line_split_in_two_is_joined():
    mrz = find_mrz([TD2[0], TD2[1][:20], TD2[1][20:]])

    assert mrz is not None and mrz.valid


def test_a_td2_visa_has_no_composite_check():
    # ICAO 9303 part 7 specimen of a TD2-size visa (MRV-B).
    lines = ["V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "L8988901C4XXX4009078F9612109<<<<<<<<"]
    mrz = find_mrz(lines)

    assert mrz is not None and mrz.format == "MRV-B"
    assert mrz.valid
    assert set(mrz.checks) == {"passportNumber", "birthDate", "expiryDate"}
    assert (mrz.passport_number, mrz.nationality) == ("L8988901C", "XXX")


def test_card_like_lines_whose_check_digits_fail_are_no_zone():
    lines = ["I<UTOABCDEFGHI1<<<<<<<<<<<<<<<", "1234567M8901234UTO<<<<<<<<<<<5", "DOE<<JOHN"]

    assert find_mrz(lines) is None


def test_a_td1_names_line_opening_with_p_is_not_taken_for_a_passport_zone():
    mrz = find_mrz([TD1[0], TD1[1], "PENG<<BO<<<<<<<<<<<<<<<<<<<<<<"])

    assert mrz is not None and mrz.format == "TD1"
    assert (mrz.surname, mrz.given_names) == ("PENG", "BO")


def test_a_td1_date_line_split_into_pieces_without_fillers_is_joined():
    mrz = find_mrz([TD1[0], TD1[1][:16], TD1[1][16:], TD1[2]])

    assert mrz is not None and mrz.valid


def test_td1_fields_read_with_a_look_alike_are_recorded_as_repaired():
    lines = [TD1[0].replace("UTO", "UT0", 1), TD1[1].replace("F1204159", "FI2O4159"), TD1[2]]
    mrz = find_mrz(lines)

    assert mrz is not None and mrz.valid
    assert mrz.repaired == {"issuingCountry", "expiryDate"}


def test_td2_names_read_with_a_look_alike_are_recorded_as_repaired():
    mrz = find_mrz([TD2[0].replace("ANNA", "4NNA"), TD2[1]])

    assert mrz is not None and mrz.valid
    assert mrz.given_names == "ANNA MARIA"
    assert mrz.repaired == {"givenNames"}


def test_td1_fillers_read_as_k_are_no_repair():
    lines = [TD1[0].replace("<<<<<", "<KK<<", 1), TD1[1], TD1[2].replace("<<<<<<<", "<<KKKKK")]

    assert find_mrz(lines).repaired == frozenset()
