"""`field__among=[...]`: membership in a list of values, one array parameter on PostgreSQL.

`field__in=[a thousand ids]` sends a thousand parameters; psycopg scans the text of such a
query character by character to place them, which cost a fifth of a second per query on
the development machine (a month's settlement and statements send several). On
PostgreSQL `among` sends `field = ANY(%s)` with the list as one array; elsewhere it is
`in` itself. Only for plain lists of values, not subqueries.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Field, ForeignObject
from django.db.models.fields.related_lookups import RelatedIn
from django.db.models.lookups import In


def _any_sql(lookup: In, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
    lhs, lhs_params = lookup.process_lhs(compiler, connection)
    values = [value for value in lookup.rhs if value is not None]
    # An explicit array type: psycopg would otherwise pick the element type from the
    # values (int2 for small ones), which the column's type may not compare with.
    array_type = lookup.lhs.output_field.cast_db_type(connection)
    return f"{lhs} = ANY(%s::{array_type}[])", [*lhs_params, values]


@Field.register_lookup
class Among(In):
    lookup_name = "among"

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        return _any_sql(self, compiler, connection)


@ForeignObject.register_lookup
class RelatedAmong(RelatedIn):
    """`among` on a foreign key (`member__among=[ids]`, `member_id__among=[ids]`)."""

    lookup_name = "among"

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        return _any_sql(self, compiler, connection)
