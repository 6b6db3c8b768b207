"""Links written as (kind, id) pairs are removed with their record, on every path that deletes it.

Some rows name the record they are about by a kind and an id with no foreign key (a reminder
policy's ``target_kind``/``target_id``, a calendar subscription's ``kind``/``target_id``...):
one column points at a different table per kind. Features register each such link with
``remove_with(cls, links)`` (``reminders.links``, ``calendar_export.links``) and this module
deletes the linking rows in the same transaction as the record, whichever way it goes:

- the ORM deletes it (``db.session.delete``, a cascade): a ``before_delete`` mapper event;
- a bulk ``sa.delete(Model)`` run through ``db.session``: the ORM never loads those rows, so
  a ``do_orm_execute`` listener on the app's session deletes the links of every row the
  statement's WHERE matches, before the statement runs;
- the database deletes it by ``ON DELETE CASCADE`` when a row it belongs to goes (deleting a
  client deletes its meetings, appointments and place offers inside the database; deleting an
  enrolment, its place offer): either hook above also removes the links of the rows such a
  delete will cascade to, found from the foreign keys of the schema.

Without this a bulk delete left the links behind, and on SQLite (which reuses the largest id)
the next record made would inherit them. Plain SQL text and a bare ``Connection`` are not seen;
code that deletes a linked record that way must call ``remove_links`` itself.
"""
from __future__ import annotations

from functools import cache

import sqlalchemy as sa
from sqlalchemy.orm import ORMExecuteState

from core.extensions import db

# (table holding the link, its kind column, its id column, the kind naming the record)
Link = tuple[sa.Table, str, str, str]

_LINKS: dict[sa.Table, list[Link]] = {}


def remove_with(cls: type, links: list[Link]) -> None:
    """Delete ``links`` with each deleted ``cls`` row, in the same transaction."""
    table = cls.__table__  # type: ignore[attr-defined]  # a mapped class (db.Model) has its table
    _LINKS.setdefault(table, []).extend(links)
    _cascades.cache_clear()


def _cascade_children(table: sa.Table) -> list[tuple[sa.Table, sa.Column]]:
    """Tables whose rows the database deletes with a ``table`` row (``ON DELETE CASCADE`` on a
    foreign key to its ``id``), with that foreign key's column."""
    children = []
    for child in table.metadata.tables.values():
        if "id" not in child.c:
            continue
        for fk in child.foreign_keys:
            if (fk.column.table is table and fk.column.name == "id"
                    and (fk.ondelete or "").upper() == "CASCADE" and child is not table):
                children.append((child, fk.parent))
    return children


@cache
def _cascades(table: sa.Table) -> tuple[tuple[tuple[sa.Column, ...], sa.Table], ...]:
    """The linked tables a delete of ``table`` rows removes: the table itself if it is linked,
    and every linked table the database cascades the delete to, each with the chain of
    foreign-key columns leading to it."""
    found: list[tuple[tuple[sa.Column, ...], sa.Table]] = []

    def walk(current: sa.Table, chain: tuple[sa.Column, ...], seen: frozenset) -> None:
        if current in _LINKS:
            found.append((chain, current))
        for child, column in _cascade_children(current):
            if child not in seen:
                walk(child, (*chain, column), seen | {child})

    walk(table, (), frozenset({table}))
    return tuple(found)


def _ids_through(chain: tuple[sa.Column, ...], target: sa.Table, ids):
    """A select of the ids of ``target`` rows reached from ``ids`` along the foreign-key chain."""
    for column in chain:
        ids = sa.select(column.table.c.id).where(column.in_(ids))
    return ids


def _statements(table: sa.Table, ids) -> list[sa.Delete]:
    statements = []
    for chain, target in _cascades(table):
        target_ids = _ids_through(chain, target, ids)
        for link_table, kind_column, id_column, kind in _LINKS[target]:
            statements.append(sa.delete(link_table).where(link_table.c[kind_column] == getattr(kind, "value", kind),
                                                          link_table.c[id_column].in_(target_ids)))
    return statements


def remove_links(table: sa.Table, ids) -> None:
    """Delete the links of the ``table`` rows with ``ids`` (a list or a select) and of the rows
    the database cascades their delete to, in the session's transaction."""
    for statement in _statements(table, ids):
        db.session.execute(statement)


def _before_delete(_mapper, connection, target) -> None:
    table = target.__table__
    if _cascades(table):
        for statement in _statements(table, [target.id]):
            connection.execute(statement)


def _do_orm_execute(state: ORMExecuteState) -> None:
    if not state.is_delete:
        return
    table = getattr(state.statement, "table", None)
    if not isinstance(table, sa.Table):
        return
    # An ORM statement holds an annotated copy of the table: the schema's own one is compared.
    table = table.metadata.tables[table.fullname]
    if "id" not in table.c or not _cascades(table):
        return
    where = state.statement.whereclause  # type: ignore[attr-defined]  # is_delete: a Delete
    ids = sa.select(table.c.id) if where is None else sa.select(table.c.id).where(where)
    connection = state.session.connection()
    for statement in _statements(table, ids):
        connection.execute(statement)


def install() -> None:
    """Attach the hooks: to every mapped class (a row may be linked, or cascade to linked rows)
    and to the app's session (``db.session``, never SQLAlchemy's global ``Session``). Called
    once by the features that register links; attaching again does nothing."""
    if not sa.event.contains(db.Model, "before_delete", _before_delete):
        sa.event.listen(db.Model, "before_delete", _before_delete, propagate=True)
    if not sa.event.contains(db.session, "do_orm_execute", _do_orm_execute):
        sa.event.listen(db.session, "do_orm_execute", _do_orm_execute)
