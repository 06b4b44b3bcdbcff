"""Finding, repairing and parsing a TD3 machine readable zone in phone OCR lines."""

from ocr.mrz import check_digit, find_mrz, repair_line2

LINE1 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
LINE2 = "L898902C36UTO7408122F1204159ZE184226B<<<<<10"


def test_check_digit_icao_example():
    assert check_digit("L898902C3") == "6"
    assert check_digit("740812") == "2"
    assert check_digit("ZE184226B<<<<<") == "1"


def test_check_digit_values_characters_outside_the_mrz_alphabet_as_before():
    # Other digits count as their value, anything else as a filler.
    assert check_digit("7٤0812") == check_digit("740812")
    assert check_digit("l898902c3") == check_digit("<898902<3")


def test_parses_the_icao_specimen():
    mrz = find_mrz([LINE1, LINE2])
    assert mrz is not None
    assert mrz.valid
    assert (mrz.surname, mrz.given_names) == ("ERIKSSON", "ANNA MARIA")
    assert mrz.passport_number == "L898902C3"
    assert (mrz.issuing_country, mrz.nationality) == ("UTO", "UTO")
    assert mrz.birth_date == "1974-08-12"
    assert mrz.expiry_date == "2012-04-15"
    assert mrz.sex == "female"
    assert mrz.personal_number == "ZE184226B"


def test_no_mrz_in_plain_text():
    assert find_mrz(["姓名 张三", "PASSPORT", "P CHN E12345678"]) is None


def test_spaces_inside_the_lines():
    mrz = find_mrz(["P<UTOERIKSSON< <ANNA<MARIA<<<<<<<<<<<<<<<<<<<", LINE2[:20] + " " + LINE2[20:]])
    assert mrz is not None and mrz.valid
    assert mrz.surname == "ERIKSSON"


def test_line_two_split_over_two_ocr_lines():
    mrz = find_mrz(["姓名", LINE1, LINE2[:22], "|", LINE2[22:]])
    assert mrz is not None and mrz.valid


def test_one_filler_too_many_in_line_one():
    mrz = find_mrz([LINE1 + "<", LINE2])
    assert mrz is not None and mrz.valid
    assert mrz.passport_number == "L898902C3"


def test_one_filler_too_many_in_line_two():
    assert repair_line2(LINE2.replace("<<<<<", "<<<<<<", 1)) == LINE2


def test_one_filler_too_few_in_line_two():
    assert repair_line2(LINE2.replace("<<<<<", "<<<<", 1)) == LINE2


def test_guillemet_and_k_read_for_fillers():
    line2 = LINE2.replace("B<<<<<1", "B<<K<<1")
    mrz = find_mrz([LINE1.replace("<<<<<<", "<<««<<", 1), line2])
    assert mrz is not None and mrz.valid
    assert mrz.given_names == "ANNA MARIA"


def test_letter_o_in_a_date_is_read_as_zero():
    mrz = find_mrz([LINE1, LINE2.replace("7408122", "74O8122")])
    assert mrz is not None and mrz.valid
    assert mrz.birth_date == "1974-08-12"


def test_a_passport_number_letter_is_kept_as_printed_though_its_check_digit_fails():
    # A passport number holds letters and digits alike: reading its O as 0 would invent one.
    mrz = find_mrz([LINE1, LINE2.replace("L898902C3", "L8989O2C3")])
    assert mrz is not None
    assert mrz.passport_number == "L8989O2C3"
    assert not mrz.checks["passportNumber"]


def test_failing_check_digit_is_reported():
    mrz = find_mrz([LINE1, LINE2.replace("F1204159", "F1204169")])
    assert mrz is not None
    assert not mrz.checks["expiryDate"]
    assert not mrz.valid


def test_full_width_mrz():
    full = "".join(chr(ord(c) + 0xFEE0) for c in LINE2)
    mrz = find_mrz([LINE1, full])
    assert mrz is not None and mrz.valid


def test_lines_read_bottom_up():
    mrz = find_mrz([LINE2, LINE1])
    assert mrz is not None and mrz.valid


def test_the_zone_of_the_same_lines_is_read_once():
    lines = ["姓名", LINE1, LINE2]

    assert find_mrz(lines) is find_mrz(tuple(lines))


def test_lower_case_zone_is_read():
    mrz = find_mrz([LINE1.lower(), LINE2.lower()])
    assert mrz is not None and mrz.valid
    assert mrz.passport_number == "L898902C3"


def test_filler_runs_read_as_k_after_the_names_are_fillers():
    mrz = find_mrz([LINE1.replace("<<<<<<<<<<<<<<<<<<<", "<<KKK<<<<<KK<<<<<<<"), LINE2])
    assert mrz is not None
    assert mrz.given_names == "ANNA MARIA"


def test_a_tail_of_fillers_read_all_as_k_is_fillers():
    mrz = find_mrz([LINE1.replace("<<<<<<<<<<<<<<<<<<<", "KKKKKKKKKKKKKKKKKKK"), LINE2])
    assert mrz is not None
    assert mrz.given_names == "ANNA MARIA"


def test_a_one_letter_k_ending_a_name_is_kept():
    mrz = find_mrz(["P<UTOSMITH<<MARK<<<<<<<<<<<<<<<<<<<<<<<<<<<<", LINE2])
    assert mrz is not None
    assert mrz.given_names == "MARK"


def test_stray_marks_inside_a_zone_line_are_dropped():
    mrz = find_mrz([LINE1, LINE2[:20] + "." + LINE2[20:33] + "," + LINE2[33:]])
    assert mrz is not None and mrz.valid


def test_digits_in_the_names_are_read_as_the_letters_they_resemble():
    mrz = find_mrz([LINE1.replace("ERIKSSON", "ERIK55ON"), LINE2])
    assert mrz is not None
    assert mrz.surname == "ERIKSSON"


def test_letters_in_dates_and_check_digits_are_read_as_digits():
    line2 = LINE2.replace("7408122F1204159", "74O8lZZF12O4I59")
    mrz = find_mrz([LINE1, line2])
    assert mrz is not None and mrz.valid
    assert (mrz.birth_date, mrz.expiry_date) == ("1974-08-12", "2012-04-15")


def test_a_zone_line_merged_with_a_printed_line_is_parted_from_it():
    mrz = find_mrz(["Date of expiry", "15 APR 2012   " + LINE1, LINE2])

    assert mrz is not None and mrz.valid
    assert mrz.surname == "ERIKSSON"


def test_fields_read_with_a_look_alike_are_recorded_as_repaired():
    mrz = find_mrz([LINE1.replace("ERIKSSON", "ERIK55ON"), LINE2.replace("7408122", "74O8122")])

    assert mrz is not None and mrz.valid
    assert mrz.repaired == {"surname", "birthDate"}


def test_a_zone_printed_as_is_has_no_repaired_field():
    assert find_mrz([LINE1.lower(), LINE2[:20] + " " + LINE2[20:]]).repaired == frozenset()


def test_a_visa_of_passport_size_has_no_personal_number_or_composite_check():
    # ICAO 9303 part 7 specimen of a TD3-size visa (MRV-A).
    lines = [
        "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
        "L8988901C4XXX4009078F96121096ZE184226B<<<<<<",
    ]
    mrz = find_mrz(lines)

    assert mrz is not None and mrz.format == "MRV-A"
    assert mrz.valid
    assert set(mrz.checks) == {"passportNumber", "birthDate", "expiryDate"}
    assert (mrz.passport_number, mrz.birth_date, mrz.expiry_date) == (
        "L8988901C",
        "1940-09-07",
        "1996-12-10",
    )
