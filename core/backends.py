"""Log in with the login (username) or the e-mail address, everywhere a password is checked.

E-mail addresses are compared without case. Accounts created through « Personnes » have a unique
address (people.services refuses a duplicate), but older accounts may share one (a tutor record and an
evaluator account of the same person, for example): then the password decides — the one account
whose password matches is the one logged in; when none or several match, the login fails like any
wrong password (the form says to use the login instead), so the page never tells which addresses have
an account.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.db import connections, router


def looks_like_email(value):
    return "@" in (value or "")


def users_with_email(email):
    """Active or not, every account using this address (case-insensitive)."""
    email = (email or "").strip()
    if not email:
        return get_user_model().objects.none()
    return get_user_model()._default_manager.filter(email__iexact=email)


# The user of every request (issue 21, request floor): its SELECT compiled once per process and
# database instead of once per request (the ORM spent ~0.7 ms of CPU building it, more than the
# query costs PostgreSQL). Same columns, same row, same instance as `_default_manager.get(pk=…)`.
_USER_QUERIES = {}


def _user_query(model, alias):
    query = _USER_QUERIES.get(alias)
    if query is None:
        names = [field.attname for field in model._meta.concrete_fields]
        queryset = model._default_manager.db_manager(alias).filter(pk=0).values_list(*names)
        compiler = queryset.query.get_compiler(alias)
        sql, params = compiler.as_sql()
        assert list(params) == [0], params  # the one parameter is the primary key
        columns = [column for column, _sql, _alias in compiler.select]
        query = _USER_QUERIES[alias] = (sql, names, columns)
    return query


def _converted(row, columns, connection):
    """The values as the ORM gives them (the backend's converters: dates on SQLite, for example)."""
    values = list(row)
    for index, column in enumerate(columns):
        for converter in connection.ops.get_db_converters(column) + column.get_db_converters(connection):
            values[index] = converter(values[index], column, connection)
    return values


class EmailOrUsernameBackend(ModelBackend):
    def get_user(self, user_id):
        model = get_user_model()
        try:
            pk = model._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        alias = router.db_for_read(model)
        sql, names, columns = _user_query(model, alias)
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(sql, [pk])
            row = cursor.fetchone()
        if row is None:
            return None
        user = model.from_db(alias, names, _converted(row, columns, connection))
        return user if self.user_can_authenticate(user) else None

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        username = username.strip()
        if not looks_like_email(username):
            return super().authenticate(request, username=username, password=password, **kwargs)
        # A login may itself contain "@" (older accounts): the exact login wins.
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None:
            return user
        candidates = list(users_with_email(username)[:5])
        if not candidates:
            # Same work as a real check, so that timing does not reveal unknown addresses.
            get_user_model()().set_password(password)
            return None
        matching = [
            user for user in candidates if user.check_password(password) and self.user_can_authenticate(user)
        ]
        return matching[0] if len(matching) == 1 else None


def lockout_username(request, credentials):
    """django-axes counts failures per login: an address of exactly one account counts for that login,
    so typing the address instead of the login does not give a second series of attempts."""
    if credentials:
        value = credentials.get("username")
    else:
        value = getattr(request, "data", getattr(request, "POST", {})).get("username")
    if value and looks_like_email(value):
        value = value.strip()
        logins = list(users_with_email(value).values_list("username", flat=True)[:2])
        if len(logins) == 1:
            return logins[0]
        return value.lower()
    return value
