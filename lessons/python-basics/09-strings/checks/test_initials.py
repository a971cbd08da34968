from main import initials


def test_initials_two_words():
    result = initials("Ada Lovelace")
    assert result == "A.L.", (
        f'initials("Ada Lovelace") should return "A.L.", but it returned {result!r}.'
    )


def test_initials_lower_case_three_words():
    result = initials("grace brewster hopper")
    assert result == "G.B.H.", (
        f'initials("grace brewster hopper") should return "G.B.H.", but it returned {result!r}.'
    )


def test_initials_one_word():
    result = initials("Anna")
    assert result == "A.", f'initials("Anna") should return "A.", but it returned {result!r}.'
