import datetime as dt
import os
import stat

import pytest

from xero_sync.config import ConfigError
from xero_sync.store.token_cipher import ENV_VAR, TokenCipher
from xero_sync.core.tokens import TokenSet
from xero_sync.xero.windows import DateWindow, ModifiedSince


def test_date_window_where_clause_and_month():
    w = DateWindow.month(2024, 12)
    assert (w.start, w.end) == (dt.date(2024, 12, 1), dt.date(2025, 1, 1))
    assert w.where() == "Date>=DateTime(2024,12,01)&&Date<DateTime(2025,01,01)"
    assert w.where("UpdatedDateUTC").startswith("UpdatedDateUTC>=DateTime(2024,12,01)")
    with pytest.raises(ValueError):
        DateWindow(dt.date(2024, 1, 2), dt.date(2024, 1, 1))


def test_modified_since_requires_aware_and_truncates_to_second():
    with pytest.raises(ValueError):
        ModifiedSince(dt.datetime(2024, 1, 1))
    tz = dt.timezone(dt.timedelta(hours=2))
    ms = ModifiedSince(dt.datetime(2024, 1, 1, 12, 0, 0, 999, tzinfo=tz))
    assert ms.header_value() == dt.datetime(2024, 1, 1, 10, tzinfo=dt.timezone.utc)


def _tokens() -> TokenSet:
    return TokenSet("ACCESS-SECRET-abc", "REFRESH-SECRET-xyz",
                    dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc), "openid", id_token="ID-SECRET")


def test_token_set_repr_and_str_mask_tokens():
    t = _tokens()
    for text in (repr(t), str(t), f"{t}", repr([t])):
        assert "SECRET" not in text
    assert "2030-01-01" in repr(t)


def test_token_set_from_response_keeps_refresh_when_absent_and_computes_expiry():
    prev = _tokens()
    new = TokenSet.from_token_response({"access_token": "a2", "expires_in": 1800}, 1000.0, previous=prev)
    assert new.refresh_token == prev.refresh_token and new.expires_at.timestamp() == 2800.0
    assert new.expires_within(60, 2741.0) and not new.expires_within(60, 2739.0)


def test_cipher_round_trip_and_malformed_key_names_variable():
    c = TokenCipher(TokenCipher.generate_key())
    enc = c.encrypt("secret-token")
    assert "secret-token" not in enc and c.decrypt(enc) == "secret-token"
    with pytest.raises(ConfigError, match=ENV_VAR):
        TokenCipher.from_key_or_file("not-a-key", home=None)


def test_cipher_key_file_created_0600_announced_once(tmp_path, capsys):
    home = tmp_path / "home"
    c1 = TokenCipher.from_key_or_file(None, home)
    c2 = TokenCipher.from_key_or_file(None, home)
    key_file = home / "encryption.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert c2.decrypt(c1.encrypt("x")) == "x"
    err = capsys.readouterr().err
    assert err.count(ENV_VAR) == 1 and str(key_file) in err
    assert key_file.read_text().strip() not in err and key_file.read_text().strip() not in repr(c1)
