from chalicelib.domain.masking import mask_text


def test_identity_numbers_keep_region_and_check_digit_only():
    assert mask_text("身份证 34160219900101123X 已核验") == "身份证 341602***********X 已核验"


def test_mobile_numbers_keep_first_three_and_last_four():
    assert mask_text("tel 13800138000, +8613912345678") == "tel 138****8000, +86139****5678"


def test_case_numbers_and_credit_codes_are_left_alone():
    text = "BZ-20261121-00042 91341600MA2NXXXX1A"
    assert mask_text(text) == text


def test_powertools_log_lines_are_masked():
    import io

    from chalicelib.logs import logger

    out = io.StringIO()
    previous = logger.registered_handler.setStream(out)
    try:
        logger.info("walk-in registered", extra={"applicant": {"id_number": "341602199001011234",
                                                                "phone": "13800138000"}})
    finally:
        logger.registered_handler.setStream(previous)
    line = out.getvalue()
    assert "341602199001011234" not in line and "13800138000" not in line
    assert "341602***********4" in line and "138****8000" in line


def test_names_on_the_public_board_are_masked():
    from chalicelib.domain.masking import mask_name

    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("亳州市芍香中药材贸易有限公司") == "亳州**********公司"
    assert mask_name("") == ""
