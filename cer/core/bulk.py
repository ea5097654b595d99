"""Insert many new rows of one model at once: COPY on PostgreSQL, bulk_create elsewhere.

A month's settlement stores a thousand rows in each of several tables (members in a run,
their shares, statements, statement lines). Django's bulk_create spends most of its time
compiling and quoting the values of a large INSERT; PostgreSQL's COPY takes the same rows
as a stream, formatted by the driver in C. `bulk_insert` behaves as bulk_create does for
the callers here: every concrete field is written (defaults included, as the instances
carry them), and each instance gets its primary key, reserved from the table's sequence
beforehand because COPY returns none. Other databases get bulk_create itself, so both
paths store the same rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from django.db import connection, models
from django.db.models.fields import NOT_PROVIDED

_Model = TypeVar("_Model", bound=models.Model)

# Fields whose Python value is what the database stores (psycopg adapts it as is); any
# other field (JSON, encrypted, custom) is prepared by the field itself.
_AS_IS: tuple[type[models.Field], ...] = (
    models.AutoField,
    models.BigAutoField,
    models.BigIntegerField,
    models.BinaryField,
    models.BooleanField,
    models.CharField,
    models.DateField,
    models.DateTimeField,
    models.DecimalField,
    models.ForeignKey,
    models.IntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.SmallIntegerField,
    models.TextField,
)


def bulk_insert(
    model: type[_Model], objs: Sequence[_Model], *, batch_size: int = 1000
) -> Sequence[_Model]:
    """Insert new instances of `model` and set their primary keys; return them.

    `batch_size` applies to bulk_create (databases other than PostgreSQL).
    """
    if not objs:
        return objs
    meta = model._meta
    # Generated columns are the database's to fill; a default computed by the database
    # cannot be asked for row by row in COPY: bulk_create knows how to leave it out.
    fields = [field for field in meta.concrete_fields if not field.generated]
    database_defaults = any(field.db_default is not NOT_PROVIDED for field in fields)
    if connection.vendor != "postgresql" or database_defaults:
        model._default_manager.bulk_create(objs, batch_size=batch_size)
        return objs
    pk = meta.pk
    assert pk is not None
    missing = [obj for obj in objs if obj.pk is None]
    if missing:
        for obj, value in zip(missing, _reserve_ids(model, len(missing)), strict=True):
            setattr(obj, pk.attname, value)
    _take_related_keys(meta, objs)
    prepare = [_preparer(field) for field in fields]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    table = connection.ops.quote_name(meta.db_table)
    sql = f"COPY {table} ({columns}) FROM STDIN"
    # The psycopg cursor behind Django's wrapper: COPY streams in the same transaction.
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for obj in objs:
            copy.write_row([step(obj) for step in prepare])
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
    return objs


def insert_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    batch_size: int = 1000,
) -> list[int]:
    """Insert new rows of `model` given as plain values; return their keys, in row order.

    `columns` names every concrete field but the primary key (by attname: `run_id`), and
    each row gives their values in that order, as the instances would hold them. On
    PostgreSQL the rows go through COPY with keys taken from the table's sequence, each
    value prepared as bulk_insert prepares it; elsewhere they become instances for
    bulk_create. For the tables that take a thousand rows per month (members of a run,
    shares), building and checking a model instance per row cost more than the COPY.
    Raises ValueError when `columns` leaves out a field or names an unknown one.
    """
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    by_attname = {field.attname: field for field in meta.concrete_fields}
    expected = {attname for attname, field in by_attname.items() if field is not pk}
    if set(columns) != expected or len(columns) != len(expected):
        raise ValueError(f"insert_rows({meta.label}): columns must be {sorted(expected)}")
    fields = [by_attname[name] for name in columns]
    if connection.vendor != "postgresql" or any(
        field.db_default is not NOT_PROVIDED or field.generated for field in fields
    ):
        created = model._default_manager.bulk_create(
            [model(**dict(zip(columns, row, strict=True))) for row in rows],
            batch_size=batch_size,
        )
        return [obj.pk for obj in created]
    values = list(rows)
    if not values:
        return []
    ids = _reserve_ids(model, len(values))
    direct = [type(field) in _AS_IS for field in fields]
    names = ", ".join(connection.ops.quote_name(field.column) for field in (pk, *fields))
    sql = f"COPY {connection.ops.quote_name(meta.db_table)} ({names}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        if all(direct):
            for key, row in zip(ids, values, strict=True):
                copy.write_row((key, *row))
            return ids
        for key, row in zip(ids, values, strict=True):
            copy.write_row(
                (
                    key,
                    *(
                        value if plain else field.get_db_prep_save(value, connection)
                        for value, plain, field in zip(row, direct, fields, strict=True)
                    ),
                )
            )
    return ids


def _take_related_keys(meta: Any, objs: Sequence[models.Model]) -> None:
    """Give each foreign key the primary key of the instance assigned to it, as bulk_create does.

    A statement line built with its statement, before the statement was stored, takes the
    statement's key now; an assigned instance that is still unsaved is refused (ValueError),
    as Django refuses it. Only the relations are looked at (Django's own check walks every
    field of every instance, a third of the time of a thousand-row insert).
    """
    relations = [field for field in meta.concrete_fields if field.is_relation]
    for field in relations:
        attname = field.attname
        target = field.target_field.attname
        for obj in objs:
            related = field.get_cached_value(obj, default=None)
            if related is None:
                continue
            value = getattr(related, target)
            if value is None:
                raise ValueError(
                    f"bulk_insert() prohibited to prevent data loss due to unsaved related "
                    f"object '{field.name}'."
                )
            if getattr(obj, attname) is None:
                setattr(obj, attname, value)


def _preparer(field: models.Field) -> Callable[[models.Model], Any]:
    """Return the function giving the value to store for `field` of an instance."""
    attname = field.attname
    automatic = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    if type(field) in _AS_IS and not automatic:
        return lambda obj: getattr(obj, attname)

    def prepared(obj: models.Model) -> Any:
        return field.get_db_prep_save(field.pre_save(obj, add=True), connection)

    return prepared


def _reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """Take `count` values from the sequence behind the model's primary key."""
    pk = model._meta.pk
    assert pk is not None
    # One text value, not a row per key: fetching a thousand one-column rows cost more
    # than taking the values from the sequence.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT string_agg(key::text, ',' ORDER BY n) FROM (SELECT n, "
            "nextval(pg_get_serial_sequence(%s, %s)) AS key FROM generate_series(1, %s) n) k",
            [connection.ops.quote_name(model._meta.db_table), pk.column, count],
        )
        (keys,) = cursor.fetchone()
    return [int(key) for key in keys.split(",")]
