"""A paginator for tables of millions of rows, such as the request log.

Counting every row that matches is what makes a large admin list slow, so this paginator does
not: the whole table is estimated from PostgreSQL's statistics (``pg_class.reltuples``; exact on
other databases, where tables this large do not live), and a filtered list is counted up to
``COUNT_LIMIT`` rows, beyond which it shows that many. Pages past the middle are read from the
other end of the order, so that the last page costs what the first does.
"""

from __future__ import annotations

from functools import cached_property

from django.core.paginator import Page, Paginator
from django.db import connections

# A filtered list is counted up to here: counting further costs a scan and tells staff nothing
# they would page through.
COUNT_LIMIT = 10_000


def estimated_rows(queryset) -> int | None:
    """The planner's estimate of the rows of the queryset's table on PostgreSQL, else None."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
            [queryset.model._meta.db_table],
        )
        row = cursor.fetchone()
    # -1 before the table was first analysed.
    return int(row[0]) if row and row[0] >= 0 else None


class LogPaginator(Paginator):
    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not queryset.query.where:
            estimate = estimated_rows(queryset)
            if estimate is not None:
                # The estimate may lag behind: never claim fewer than one page that exists.
                return max(estimate, queryset[: self.per_page].count())
            return queryset.count()
        return queryset[:COUNT_LIMIT].count()

    def page(self, number) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        if bottom <= self.count // 2 or not self.object_list.ordered:
            return self._get_page(self.object_list[bottom:top], number, self)
        # Past the middle: the same rows, read backwards from the end of the order.
        from_end = self.count - top
        rows = list(self.object_list.reverse()[from_end : from_end + (top - bottom)])
        rows.reverse()
        return self._get_page(rows, number, self)
