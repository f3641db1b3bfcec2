"""`core.models.person_name`: the one rule for a person's name on the pages, for users read as value
rows (the candidate page's sections) as for User instances (str(User))."""

from hypothesis import given
from hypothesis import strategies as st

from core.models import User, person_name, pop_person_name

names = st.text(alphabet=st.sampled_from("aé Z-'\t"), max_size=6)


@given(first=names, last=names, login=st.text(alphabet="abc.@_-1", min_size=1, max_size=8))
def test_a_value_row_and_a_user_give_the_same_name(first, last, login):
    user = User(first_name=first, last_name=last, username=login)
    assert person_name(first, last, login) == str(user) == (user.get_full_name() or login)


def test_no_user_gives_no_name_and_a_nameless_account_its_login():
    assert person_name(None, None, None) == ""
    assert person_name("", "", "jdupont") == "jdupont"
    assert person_name(None, "Dupont", "jdupont") == "Dupont"


def test_a_value_rows_user_columns_become_its_name():
    row = {"pk": 1, "by__first_name": "Léa", "by__last_name": "Martin", "by__username": "lmartin"}
    assert pop_person_name(row, "by") == "Léa Martin"
    assert row == {"pk": 1}  # the columns are taken out of the row
    assert pop_person_name({"by__first_name": None, "by__last_name": None, "by__username": None}, "by") == ""
