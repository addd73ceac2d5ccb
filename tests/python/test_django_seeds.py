"""The seeds' Django code (examples/django: 000 order from a cart, 001
adding funds, 002 set_rollback in an except) with Django models and
Django's own transaction API, on ENGINE "pgatomic.django" with nothing else
changed; plus what the backend adds: round trips counted on the wire,
COMMIT answered with ROLLBACK, and a COMMIT whose outcome is unknown.

Django talks to the server through tests/proxy/pgproxy (round trips and
faults); every check of what was committed goes through a direct pgatomic
connection (`observer`), never through Django."""

import contextlib
import decimal
import os
import sys
import uuid

import pytest

import pgatomic

from faultlib import Proxy, deadline

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "django")
SCHEMA = f"shop_{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def proxy():
    p = Proxy()
    yield p
    p.close()


@pytest.fixture(scope="module")
def project(proxy):
    """Django set up once for this module on examples/django's settings,
    through the proxy, in a schema of its own with the models' tables."""
    sys.path.insert(0, EXAMPLE)
    os.environ.update(DJANGO_SETTINGS_MODULE="shop_settings", SHOP_SCHEMA=SCHEMA,
                      SHOP_PROXY_PORT=str(proxy.port))
    import django
    django.setup()
    import run_all
    from django.db import connection
    assert connection.settings_dict["ENGINE"] == "pgatomic.django"
    run_all.fresh_schema()
    yield run_all
    connection.close()
    admin = pgatomic.connect(os.environ.get("DATABASE_URL") or None)
    admin.execute(f'DROP SCHEMA "{SCHEMA}" CASCADE')
    admin.close()


@pytest.fixture
def shop(project, proxy):
    """Empty tables, nothing armed; the seeds' models module."""
    from django.db import connection
    from shop import models
    proxy.disarm()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE " + ", ".join(
            f'"{m._meta.db_table}"' for m in project.django_models())
            + " RESTART IDENTITY CASCADE")
    yield models
    proxy.disarm()


@pytest.fixture
def db(observer):
    """rows(sql): what another session sees committed in the schema."""
    observer.execute(f'SET search_path TO "{SCHEMA}"')
    return lambda sql: observer.execute(sql).rows


def round_trips(proxy, body):
    """Run body; the round trips the proxy saw it make."""
    before = int(proxy.stats()["round_trips"])
    body()
    return int(proxy.stats()["round_trips"]) - before


@contextlib.contextmanager
def connection_with_options(alias, **options):
    """The default connection's settings with more OPTIONS, connected as
    `alias` for the body's length."""
    from django.db import connection, connections
    other = connection.copy(alias=alias)
    other.settings_dict["OPTIONS"] = dict(other.settings_dict["OPTIONS"], **options)
    connections[alias] = other
    try:
        other.ensure_connection()
        yield other
    finally:
        other.close()
        del connections[alias]


def stock_cart(models, *items):
    """Products (title, price) in a new cart, one of each."""
    cart = models.Cart.objects.create()
    for title, price in items:
        product = models.Product.objects.create(title=title, unit_price=price)
        models.CartItem.objects.create(cart=cart, product=product, quantity=2)
    return cart


# -- 000 --------------------------------------------------------------------

def test_django_seed_000_order_created_from_cart(shop, db):
    import django_seed_000_order_from_cart as seed000
    cart = stock_cart(shop, ("a", "10.00"), ("b", "2.50"))
    order = seed000.OrderCreateSerializer({"cart_id": cart.id}, {"user_id": 5}).save()
    assert db('SELECT id FROM shop_order') == [(order.id,)]
    assert db("SELECT o.order_id, p.title, o.quantity, o.unit_price FROM shop_orderitem o"
              " JOIN shop_product p ON p.id = o.product_id ORDER BY p.title") == [
        (order.id, "a", 2, decimal.Decimal("10.00")),
        (order.id, "b", 2, decimal.Decimal("2.50"))]
    assert db("SELECT usser_id FROM shop_customer") == [(5,)]


def test_django_seed_000_failure_after_order_row_leaves_no_order(shop, db):
    from django.db import IntegrityError, connection
    import django_seed_000_order_from_cart as seed000
    cart = stock_cart(shop, ("a", "10.00"), ("no price", None))
    with pytest.raises(IntegrityError) as info:
        seed000.OrderCreateSerializer({"cart_id": cart.id}, {"user_id": 9}).save()
    assert isinstance(info.value.__cause__, pgatomic.NotNullViolation)
    assert db("SELECT * FROM shop_order") == []
    assert db("SELECT * FROM shop_orderitem") == []
    assert db("SELECT * FROM shop_customer") == []      # get_or_create undone too
    assert not connection.in_atomic_block


def test_django_seed_000_failure_injected_after_order_row(shop, db, monkeypatch):
    """The seed's "server off" right after the order row is created."""
    import django_seed_000_order_from_cart as seed000
    cart = stock_cart(shop, ("a", "10.00"))
    create = type(shop.Order.objects).create

    def create_then_fail(self, **kwargs):
        create(self, **kwargs)
        assert db("SELECT count(*) FROM shop_order") == [(0,)]   # not committed yet
        raise ConnectionError("server off")

    monkeypatch.setattr(type(shop.Order.objects), "create", create_then_fail)
    with pytest.raises(ConnectionError):
        seed000.OrderCreateSerializer({"cart_id": cart.id}, {"user_id": 1}).save()
    monkeypatch.undo()
    assert db("SELECT * FROM shop_order") == []
    assert db("SELECT * FROM shop_customer") == []


def test_django_seed_000_round_trips(shop, proxy):
    """k ORM statements cost k + 1 round trips: BEGIN rides with the first
    (get_or_create's SELECT), get_or_create's SAVEPOINT with its INSERT,
    the RELEASE with the order INSERT, the COMMIT alone."""
    import django_seed_000_order_from_cart as seed000
    cart = stock_cart(shop, ("a", "10.00"), ("b", "2.50"))
    serializer = seed000.OrderCreateSerializer({"cart_id": cart.id}, {"user_id": 5})
    # SELECT customer, INSERT customer, INSERT order, SELECT cart items,
    # INSERT order items: 5 statements.
    assert round_trips(proxy, serializer.save) == 6


# -- 001 --------------------------------------------------------------------

def test_django_seed_001_adding_funds_commits(shop, db, proxy):
    import django_seed_001_add_funds as seed001
    shop.User.objects.create(username="alice", availabe_funds=100)
    user = shop.User.objects.get(username="alice")
    view = seed001.CreateChargeView()
    assert round_trips(proxy, lambda: view.post(seed001.Request(user), decimal.Decimal(25))) == 2
    assert db("SELECT availabe_funds FROM shop_user") == [(decimal.Decimal("125.00"),)]


def test_django_seed_001_error_during_save_rolls_back(shop, db):
    from django.db import IntegrityError
    import django_seed_001_add_funds as seed001
    shop.User.objects.create(username="alice", availabe_funds=100)
    user = shop.User.objects.get(username="alice")
    with pytest.raises(IntegrityError) as info:
        seed001.CreateChargeView().post(seed001.Request(user), decimal.Decimal(5000))
    assert isinstance(info.value.__cause__, pgatomic.CheckViolation)
    assert db("SELECT availabe_funds FROM shop_user") == [(decimal.Decimal("100.00"),)]


# -- 002 --------------------------------------------------------------------

def test_django_seed_002_success(shop, db, proxy):
    import django_seed_002_set_rollback as seed002
    log = []
    body = lambda: seed002.my_view(shop.Note(title="a"), shop.Note(title="b"), log)  # noqa: E731
    assert round_trips(proxy, body) == 3
    assert log == ["cleanup"]
    assert db("SELECT title FROM shop_note ORDER BY id") == [("a",), ("b",)]


def test_django_seed_002_set_rollback_outside_any_block_raises_verbatim(shop, db):
    from django.db import transaction
    import django_seed_002_set_rollback as seed002
    log = []
    with pytest.raises(transaction.TransactionManagementError) as info:
        seed002.my_view(shop.Note(title="a"), shop.Note(title="a"), log)
    assert str(info.value) == "The rollback flag doesn't work outside of an 'atomic' block."
    assert log == ["IntegrityError", "cleanup"]
    assert db("SELECT * FROM shop_note") == []       # the atomic block undid obj1


def test_django_seed_002_set_rollback_inside_outer_block_rolls_it_back(shop, db):
    from django.db import transaction
    import django_seed_002_set_rollback as seed002
    log = []
    with transaction.atomic():
        shop.Note.objects.create(title="before")
        seed002.my_view(shop.Note(title="x"), shop.Note(title="x"), log)
        assert transaction.get_rollback() is True
    assert log == ["IntegrityError", "cleanup"]
    assert db("SELECT * FROM shop_note") == []


# -- what the backend adds ---------------------------------------------------

def test_django_nested_atomic_costs_three_round_trips(shop, db, proxy):
    from django.db import transaction

    def body():
        with transaction.atomic():
            shop.Note.objects.create(title="outer")
            with transaction.atomic():
                shop.Note.objects.create(title="inner")
    assert round_trips(proxy, body) == 3     # BEGIN+INSERT, SAVEPOINT+INSERT, RELEASE+COMMIT
    assert db("SELECT title FROM shop_note ORDER BY id") == [("outer",), ("inner",)]


def test_django_empty_atomic_blocks_send_nothing(shop, proxy):
    from django.db import connection, transaction
    connection.ensure_connection()

    def body():
        with transaction.atomic():
            with transaction.atomic():
                pass
    assert round_trips(proxy, body) == 0


def test_django_failed_nested_block_caught_costs_three_round_trips(shop, db, proxy):
    from django.db import IntegrityError, transaction

    def body():
        with transaction.atomic():
            shop.Note.objects.create(title="kept")
            with pytest.raises(IntegrityError):
                with transaction.atomic():
                    shop.Note.objects.create(title="kept")
        # ROLLBACK TO + RELEASE ride with the COMMIT
    assert round_trips(proxy, body) == 3
    assert db("SELECT title FROM shop_note") == [("kept",)]


def test_django_commit_answered_with_rollback_raises(shop, db):
    """A raw statement fails inside the block and the caller catches it:
    the server answers COMMIT with ROLLBACK, and Django's commit-failure
    path raises instead of reporting success (as it does on psycopg)."""
    from django.db import DatabaseError, connection, transaction
    with pytest.raises(DatabaseError):
        with transaction.atomic():
            shop.Note.objects.create(title="lost")
            with connection.cursor() as cursor:
                with pytest.raises(DatabaseError):
                    cursor.execute("SELECT 1/0")
    assert db("SELECT * FROM shop_note") == []
    assert not connection.in_atomic_block


def test_django_commit_outcome_unknown(shop, db, proxy):
    """The connection is cut after COMMIT reached the server: Django raises
    CommitOutcomeUnknown, which is Django's OperationalError and pgatomic's
    CommitOutcomeUnknown at once; the row is in fact committed."""
    from django.db import OperationalError, connection, transaction
    from pgatomic.django import CommitOutcomeUnknown
    shop.Note.objects.create(title="warm-up")
    proxy.arm("after", "^COMMIT")
    with deadline(30):
        with pytest.raises(CommitOutcomeUnknown) as info:
            with transaction.atomic():
                shop.Note.objects.create(title="maybe")
    assert isinstance(info.value, OperationalError)
    assert isinstance(info.value, pgatomic.errors.CommitOutcomeUnknown)
    assert isinstance(info.value.__cause__, pgatomic.errors.CommitOutcomeUnknown)
    proxy.disarm()
    assert db("SELECT title FROM shop_note ORDER BY id") == [("warm-up",), ("maybe",)]
    connection.close()
    assert shop.Note.objects.count() == 2        # a new session works


def test_django_isolation_level_option_rides_with_the_first_statement(shop, proxy):
    """OPTIONS["isolation_level"] applies to every transaction's BEGIN,
    which still travels with the first statement."""
    from django.db import transaction
    from django.db.backends.postgresql.psycopg_any import IsolationLevel
    for level, words in ((IsolationLevel.SERIALIZABLE, "serializable"),
                         ("repeatable read", "repeatable read")):
        with connection_with_options("isolated", isolation_level=level) as other:
            seen = []

            def body():
                with transaction.atomic(using="isolated"):
                    with other.cursor() as cursor:
                        cursor.execute("SHOW transaction_isolation")
                        seen.append(cursor.fetchone()[0])
            assert round_trips(proxy, body) == 2          # BEGIN+SHOW, COMMIT
            assert seen == [words]


def test_django_busy_poll_us_option_reaches_the_connection(shop):
    """OPTIONS["busy_poll_us"] is the driver's, not a libpq key (libpq
    would refuse the connection string)."""
    for value in (0, 90):
        with connection_with_options("polled", busy_poll_us=value) as other:
            assert other.connection.busy_poll_us == value
            with other.cursor() as cursor:
                cursor.execute("SELECT 1")
                assert cursor.fetchone() == (1,)


def test_django_prepare_threshold_option_reaches_the_connection(shop):
    """OPTIONS["prepare_threshold"] is the driver's, as with Django's psycopg
    backend (None: never prepare, the usual setting behind PgBouncer)."""
    for value in (None, 2):
        with connection_with_options("prepared", prepare_threshold=value) as other:
            with other.cursor() as cursor:
                cursor.execute("SELECT 1")
                assert cursor.fetchone() == (1,)
            assert other.connection.prepare_threshold == value


def test_django_savepoints_and_on_commit(shop, db, proxy):
    """Django's savepoint API and a failing nested block on the engine: what
    they roll back is gone, the hook registered in the failed block is
    dropped, the rest commits and its hook runs after the COMMIT."""
    from django.db import IntegrityError, transaction
    ran = []

    def body():
        with transaction.atomic():
            shop.Note.objects.create(title="kept")
            transaction.on_commit(lambda: ran.append("kept"))
            # Django 6.1 renamed savepoint() (now deprecated) savepoint_create().
            sid = getattr(transaction, "savepoint_create", transaction.savepoint)()
            shop.Note.objects.create(title="undone")
            transaction.savepoint_rollback(sid)
            with pytest.raises(IntegrityError):
                with transaction.atomic():
                    transaction.on_commit(lambda: ran.append("dropped"))
                    shop.Note.objects.create(title="kept")       # unique: fails
            assert ran == []
    # BEGIN+INSERT; SAVEPOINT+INSERT; ROLLBACK TO+SAVEPOINT+INSERT (fails);
    # ROLLBACK TO+RELEASE+COMMIT.  On psycopg each statement is one: 10.
    assert round_trips(proxy, body) == 4
    assert ran == ["kept"]
    assert db("SELECT title FROM shop_note") == [("kept",)]
