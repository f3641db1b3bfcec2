"""The set-password link of an account invitation: single use, expiring.

Built on Django's password-reset tokens (HMAC of the account's id, password hash, last login and
e-mail, with a timestamp): the link stops working as soon as a password is chosen (the hash changes),
when a new invitation is sent (a fresh unusable password is drawn), when the address changes, and after
settings.CQPM["ACCOUNT_INVITATION_DAYS"] days. Another salt than the password reset's, so that one
kind of link cannot be used as the other.
"""

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.crypto import constant_time_compare
from django.utils.http import base36_to_int


def invitation_days():
    return int(settings.CQPM.get("ACCOUNT_INVITATION_DAYS", 7))


class AccountInvitationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "people.tokens.AccountInvitationTokenGenerator"

    def check_token(self, user, token):
        """As Django's, with the invitation's own validity instead of PASSWORD_RESET_TIMEOUT."""
        if not (user and token):
            return False
        try:
            ts_b36, _hash = token.split("-")
            ts = base36_to_int(ts_b36)
        except ValueError:
            return False
        for secret in [self.secret, *self.secret_fallbacks]:
            if constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token):
                break
        else:
            return False
        return (self._num_seconds(self._now()) - ts) <= invitation_days() * 24 * 3600


account_invitation_token = AccountInvitationTokenGenerator()
