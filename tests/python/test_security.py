"""Security: savepoint names never come from user text; no password in any
error, repr, log line or traceback; sslmode=verify-full against a throwaway
server with its own CA works and a wrong CA fails.

The password and TLS tests start a server of their own with
`PGTMP_SSL=1 scripts/pgtmp start` (TCP on 127.0.0.1, scram-sha-256 for
host connections, a CA and a certificate for localhost / 127.0.0.1)."""

import logging
import shutil
import traceback
import urllib.parse

import pytest

import pgatomic
from pgatomic.transaction import atomic

from faultlib import Proxy, deadline, pgtmp_start, pgtmp_stop

SECRET = "Pw-7f3a9c-SECRET"
WRONG = "Wrong-1e2d-SECRET"
ROLE = "pga_alice"


# -- savepoint names ------------------------------------------------------------

CRAFTED = [
    "x\"; DROP TABLE {t}; --",
    "pga_s1; DROP TABLE {t}",
    "pga_s1\" ; DROP TABLE {t} ; --",
    "{sid} DROP",
    "{sid}x",
    "pga_s999999",
    "",
    "PGA_S1",
]


def test_savepoint_names_never_come_from_user_text(table, rows):
    """A crafted savepoint id is refused before anything is sent: the proxy
    is armed to cut the connection on any message containing DROP, and the
    block still commits; the connection's round-trip count does not move."""
    proxy = Proxy()
    try:
        pgatomic.configure(default=proxy.dsn())
        c = pgatomic.connection
        with deadline(30):
            with atomic():
                c.execute(f"INSERT INTO {table} VALUES (1, 'a')")
                sid = c.savepoint()
                assert sid is not None and sid.startswith("pga_s") and sid[5:].isdigit()
                assert all(s is None or (s.startswith("pga_s") and s[5:].isdigit())
                           for s in c.savepoint_ids)
                proxy.arm("before", "DROP")
                for template in CRAFTED:
                    name = template.format(t=table, sid=sid)
                    for call in (c.savepoint_rollback, c.savepoint_commit):
                        before = c.round_trips
                        with pytest.raises(pgatomic.ProgrammingError, match="no such savepoint"):
                            call(name)
                        assert c.round_trips == before, name
                    with pytest.raises(pgatomic.ProgrammingError):
                        pgatomic.savepoint_rollback(name)
                # Still alive: had any DROP gone out, the proxy would have cut us.
                c.execute(f"INSERT INTO {table} VALUES (2, 'b')")
                c.savepoint_commit(sid)
        assert rows(table) == [(1, "a"), (2, "b")]
        assert proxy.stats()["conns"] == "1"
    finally:
        pgatomic.connections.close_all()
        proxy.close()


def test_savepoint_id_must_be_a_str(conn):
    with conn.atomic():
        conn.execute("SELECT 1")
        with pytest.raises(TypeError):
            conn.savepoint_rollback(b"pga_s1")


# -- a server with passwords and TLS ------------------------------------------------

@pytest.fixture(scope="module")
def secure():
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make the test CA")
    env = pgtmp_start(PGTMP_SSL="1")
    admin = pgatomic.connect(
        f"host={env['PGTMP_DIR']} port={env['PGPORT']} user=postgres dbname=postgres")
    admin.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{SECRET}'")
    admin.close()
    yield env
    pgtmp_stop(env["PGTMP_DIR"])


def kv_dsn(env, password, **extra):
    parts = dict(host="127.0.0.1", port=env["PGTMP_TCP_PORT"], user=ROLE, dbname="postgres",
                 password=password, sslmode="disable", connect_timeout="5")
    parts.update(extra)
    return " ".join(f"{k}={v}" for k, v in parts.items())


def uri_dsn(env, password, query="sslmode=disable&connect_timeout=5"):
    return (f"postgresql://{ROLE}:{urllib.parse.quote(password)}@127.0.0.1:"
            f"{env['PGTMP_TCP_PORT']}/postgres?{query}")


def assert_no_secret(*texts):
    for text in texts:
        for secret in (SECRET, WRONG, urllib.parse.quote(SECRET), urllib.parse.quote(WRONG)):
            assert secret not in text, text


def everything_about(exc):
    """Every text a user or a log could show of an exception."""
    texts = [str(exc), repr(exc), "".join(traceback.format_exception(exc)), repr(exc.args)]
    diag = getattr(exc, "diag", None)
    if diag is not None:
        texts.append(repr(diag))
    return texts


@pytest.mark.parametrize("form", ["uri", "keyword"])
def test_wrong_password_never_shows_a_password(secure, caplog, form):
    dsn = uri_dsn(secure, WRONG) if form == "uri" else kv_dsn(secure, WRONG)
    with caplog.at_level(logging.DEBUG):
        with deadline(20):
            with pytest.raises(pgatomic.OperationalError) as info:
                pgatomic.connect(dsn)
    assert "password authentication failed" in str(info.value)
    assert_no_secret(*everything_about(info.value))
    assert_no_secret(*(r.getMessage() for r in caplog.records),
                     *(r.exc_text or "" for r in caplog.records))


@pytest.mark.parametrize("form", ["uri", "keyword"])
def test_connected_with_a_password_nothing_shows_it(secure, caplog, form):
    dsn = uri_dsn(secure, SECRET) if form == "uri" else kv_dsn(secure, SECRET)
    with caplog.at_level(logging.DEBUG):
        c = pgatomic.connect(dsn)
        try:
            assert c.execute("SELECT current_user").scalar() == ROLE
            assert_no_secret(repr(c))
            with pytest.raises(pgatomic.DataError) as info:
                c.execute("SELECT 1/0")
            assert_no_secret(*everything_about(info.value))
        finally:
            c.close()
        assert_no_secret(repr(c))
        # The alias machinery and the connection proxy as well.
        pgatomic.configure(default=dsn)
        try:
            assert_no_secret(repr(pgatomic.connection), repr(pgatomic.connections))
            with pytest.raises(pgatomic.TransactionManagementError) as broken:
                with atomic():
                    try:
                        pgatomic.connection.execute("SELECT 1/0")
                    except pgatomic.DataError:
                        pass
                    pgatomic.connection.execute("SELECT 1")
            assert_no_secret(*everything_about(broken.value))
        finally:
            pgatomic.connections.close_all()
    assert_no_secret(*(r.getMessage() for r in caplog.records),
                     *(r.exc_text or "" for r in caplog.records))


@pytest.mark.parametrize("dsn", [
    # Nothing listens there: a connection refusal.
    "postgresql://{role}:{pw}@127.0.0.1:1/postgres?connect_timeout=5",
    # libpq refuses the string itself.
    "postgresql://{role}:{pw}@127.0.0.1:notaport/postgres",
    "host=127.0.0.1 port=1 user={role} password={pw} connect_timeout=5",
    "host=127.0.0.1 port=1 user={role} password={pw} bogus_option=1",
], ids=["uri_refused", "uri_bad_port", "keyword_refused", "keyword_bad_option"])
def test_connection_failures_never_show_a_password(dsn, caplog):
    with caplog.at_level(logging.DEBUG):
        with deadline(20):
            with pytest.raises(pgatomic.OperationalError) as info:
                pgatomic.connect(dsn.format(role=ROLE, pw=SECRET))
    assert_no_secret(*everything_about(info.value))
    assert_no_secret(*(r.getMessage() for r in caplog.records))


def test_verify_full_with_the_servers_ca(secure):
    for host in ("localhost", "127.0.0.1"):
        c = pgatomic.connect(kv_dsn(secure, SECRET, host=host, sslmode="verify-full",
                                    sslrootcert=secure["PGTMP_SSL_CA"]))
        try:
            assert c.execute(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").scalar() is True
            with c.atomic():
                assert c.execute("SELECT current_user").scalar() == ROLE
        finally:
            c.close()


def test_verify_full_with_a_wrong_ca_fails(secure):
    for mode in ("verify-full", "verify-ca"):
        with deadline(20):
            with pytest.raises(pgatomic.OperationalError) as info:
                pgatomic.connect(kv_dsn(secure, SECRET, host="localhost", sslmode=mode,
                                        sslrootcert=secure["PGTMP_SSL_WRONG_CA"]))
        assert "certificate verify failed" in str(info.value)
        assert_no_secret(*everything_about(info.value))
    # The CA is what failed it: without verification the same server works
    # (libpq's require verifies too when a root file exists: point it nowhere).
    c = pgatomic.connect(kv_dsn(secure, SECRET, host="localhost", sslmode="require",
                                sslrootcert="/nonexistent/root.crt"))
    c.close()


# -- every shape of connection string ------------------------------------------------

def assert_no_fragment(secret, *texts):
    """No run of 3 characters of the secret, anywhere."""
    for text in texts:
        for i in range(len(secret) - 2):
            assert secret[i:i + 3] not in text, (secret[i:i + 3], text)


FRAGILE = "Qz7xKv9wMpL4"          # no 3-character run in common with libpq's words
SHAPES = {
    "keyword": "host=/nonexistent port=1 password={pw}",
    "keyword_quoted": "host=/nonexistent port=1 password='{pw} with space'",
    "keyword_spaced_equals": "host=/nonexistent port=1 password = {pw}",
    "keyword_unquoted_space": "host=/nonexistent port=1 password={a} {b}",
    "keyword_unterminated_quote": "host=/nonexistent port=1 password='{pw}",
    "keyword_bad_option_after": "host=/nonexistent password={pw} bogus_option=1",
    "keyword_bad_port_after": "password={pw} host=/nonexistent port=x",
    "uri": "postgresql://u:{pw}@/db?host=/nonexistent&port=1",
    "uri_percent_encoded": "postgresql://u:{enc}@/db?host=/nonexistent&port=1",
    "uri_bad_percent": "postgresql://u:{a}%zz{b}@/nonexistent/db",
    "uri_unencoded_at": "postgresql://u:{a}@{b}@localhost:1/db",
    "uri_unencoded_slash": "postgresql://u:{a}/{b}@localhost:1/db",
    "uri_unencoded_question_mark": "postgresql://u:{a}?{b}@localhost:1/db",
    "uri_unencoded_slash_and_at": "postgresql://u:{a}%40%3A/%20{b}@/db?host=/nonexistent",
    "uri_query_password": "postgresql:///db?host=/nonexistent&port=1&password={pw}",
    "uri_query_bad_percent": "postgresql:///db?host=/nonexistent&password={a}%0{b}",
    "uri_bad_ipv6": "postgresql://u:{pw}@[::1/db",
    "uri_bad_port": "postgresql://u:{pw}@localhost:notaport/db",
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_every_dsn_shape_keeps_the_password_out(shape, caplog):
    dsn = SHAPES[shape].format(pw=FRAGILE, a=FRAGILE[:5], b=FRAGILE[5:],
                               enc=urllib.parse.quote(FRAGILE + "@/:%"))
    with caplog.at_level(logging.DEBUG):
        with deadline(20):
            with pytest.raises(pgatomic.OperationalError) as info:
                pgatomic.connect(dsn)
    assert str(info.value)
    assert_no_fragment(FRAGILE, *everything_about(info.value),
                       *(r.getMessage() for r in caplog.records))


def test_pgpassword_and_passfile_keep_the_password_out(secure, tmp_path, monkeypatch):
    dsn = (f"host=127.0.0.1 port={secure['PGTMP_TCP_PORT']} user={ROLE} dbname=postgres"
           " sslmode=disable connect_timeout=5")
    monkeypatch.setenv("PGPASSWORD", WRONG)
    with pytest.raises(pgatomic.OperationalError) as info:
        pgatomic.connect(dsn)
    assert "password authentication failed" in str(info.value)
    assert_no_fragment(WRONG, *everything_about(info.value))
    monkeypatch.setenv("PGPASSWORD", SECRET)
    c = pgatomic.connect(dsn)
    assert_no_fragment(SECRET, repr(c))
    c.close()
    monkeypatch.delenv("PGPASSWORD")
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"127.0.0.1:{secure['PGTMP_TCP_PORT']}:*:{ROLE}:{WRONG}\n")
    passfile.chmod(0o600)
    with pytest.raises(pgatomic.OperationalError) as info:
        pgatomic.connect(dsn + f" passfile={passfile}")
    assert "password authentication failed" in str(info.value)
    assert_no_fragment(WRONG, *everything_about(info.value))
