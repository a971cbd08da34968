import main


def test_name_variable():
    assert hasattr(main, "name"), "There should be a variable called name."
    assert main.name == "Ada", 'The variable name should hold the text "Ada".'


def test_age_variable():
    assert hasattr(main, "age"), "There should be a variable called age."
    assert main.age == 36, "The variable age should hold the number 36 (without quotes)."
