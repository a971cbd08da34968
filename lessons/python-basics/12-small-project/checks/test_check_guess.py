from main import check_guess


def test_too_low():
    result = check_guess(7, 3)
    assert result == "Too low!", (
        f'check_guess(7, 3) should return "Too low!", but it returned {result!r}.'
    )


def test_too_high():
    result = check_guess(7, 9)
    assert result == "Too high!", (
        f'check_guess(7, 9) should return "Too high!", but it returned {result!r}.'
    )


def test_correct():
    result = check_guess(7, 7)
    assert result == "Correct!", (
        f'check_guess(7, 7) should return "Correct!", but it returned {result!r}.'
    )


def test_just_below_and_above():
    assert check_guess(50, 49) == "Too low!", 'check_guess(50, 49) should return "Too low!".'
    assert check_guess(50, 51) == "Too high!", 'check_guess(50, 51) should return "Too high!".'
