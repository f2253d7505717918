"""Period close (月结): finance closes a month, and its published figures stop moving.

A close is refused unless every business date of the month was published with its error
gates passed; it records, per mart that has a month (``meta.period_column`` in the dbt
project), a checksum of the month's published figures. The ``closed_periods`` gate then
fails any run that would change them. Figures are every column but the customer keys:
an identity merge may re-key a closed row, its amounts never move. Every close and reopen
is a row of ``audit.period_events`` (who, when, why, run), kept in ``build.duckdb`` and so
in every backup.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from pipelines.gates.marts import MartSpec, mart_specs
from pipelines.gates.window import Window
from pipelines.publish import pending
from pipelines.settings import Settings, duckdb_config, sql_literal, table_exists
from pipelines.transform.manifest import Manifest
from pipelines.warehouse_lock import writer_lock

CLOSE, REOPEN = "CLOSE", "REOPEN"
PERIOD_PATTERN = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
NULL_TEXT = "\\N"  # how a null figure is written into the checksum
FROZEN_SCHEMA = "closed"  # closed.<mart>: each mart's rows of its closed months, as closed
# What late data changed in closed months, per mart, brand and measure (dbt builds it).
DIFFERENCES_SCHEMA, DIFFERENCES = "intermediate", "int_finance__period_differences"

DDL = """
create schema if not exists audit;
create table if not exists audit.period_events (
    event_id  varchar not null,
    period    varchar not null,
    action    varchar not null,
    done_by   varchar not null,
    reason    varchar,
    done_at   timestamptz not null,
    run_id    varchar
);
create table if not exists audit.period_checksums (
    event_id  varchar not null,
    period    varchar not null,
    mart      varchar not null,
    row_count bigint not null,
    checksum  varchar not null
);
"""


def latest_events_sql(events: str = "audit.period_events") -> str:
    """Each period's latest close or reopen: whether it is closed now."""
    return (
        "select period, event_id, action, done_by, done_at, reason from (select *, "
        "row_number() over (partition by period order by done_at desc) as latest "
        f"from {events}) as e where latest = 1"
    )


def current_closes_sql(events: str = "audit.period_events") -> str:
    """The periods closed now, with the event of their close."""
    return f"select * from ({latest_events_sql(events)}) as l where action = 'CLOSE'"


class PeriodRefused(ValueError):
    """A close or reopen that may not happen; the message says why and what to do."""


def parse_period(text: str) -> str:
    if not PERIOD_PATTERN.fullmatch(text):
        raise PeriodRefused(f"{text!r} is not a month: write it YYYY-MM (e.g. 2024-03)")
    return text


def month_window(period: str) -> Window:
    first = date.fromisoformat(f"{period}-01")
    following = (first + timedelta(days=32)).replace(day=1)
    return Window(first, following - timedelta(days=1))


def figure_columns(spec: MartSpec) -> list[str]:
    """The columns a close freezes: all but the keys a merge may change."""
    return [c for c in spec.columns if not c.endswith("customer_key")]


def in_period(spec: MartSpec, period_sql: str) -> str:
    """A condition: the mart's row belongs to the month ``period_sql`` (a YYYY-MM value)."""
    column = spec.period_column
    if column in spec.text_columns:
        return f"{column} = {period_sql}"
    return f"strftime({column}, '%Y-%m') = {period_sql}"


def figures_sql(spec: MartSpec, relation: str, period_sql: str) -> str:
    """One row: how many rows of the month the mart holds and a checksum of their figures
    (md5 of the rows as text, sorted: independent of storage order)."""
    text = " || '|' || ".join(
        f"coalesce(cast({c} as varchar), {sql_literal(NULL_TEXT)})" for c in figure_columns(spec)
    )
    return (
        "select count(*) as row_count, "
        "md5(coalesce(string_agg(row_text, chr(10) order by row_text), '')) as checksum "
        f"from (select {text} as row_text from {relation} "
        f"where {in_period(spec, period_sql)}) as figures"
    )


def closing_marts(manifest: Manifest) -> list[MartSpec]:
    """The marts whose figures belong to a month."""
    return [spec for spec in mart_specs(manifest) if spec.period_column]


@dataclass(frozen=True)
class PeriodStatus:
    period: str
    status: str  # closed | open
    by: str | None = None  # who closed (or last reopened) it
    at: datetime | None = None
    reason: str | None = None
    adjusted_marts: tuple[str, ...] = ()  # marts whose figures of it late data changed


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


def ensure_period_tables(build_db: Path, manifest: Manifest | None = None) -> None:
    """Before a dbt build: the tables period close reads exist, and a warehouse from
    before period close keeps its history (see :func:`adopt_mart_history`)."""
    with duckdb.connect(str(build_db), config=duckdb_config()) as con:
        ensure_tables(con)
        if manifest is not None:
            adopt_mart_history(con, manifest)
            freeze_new_closing_marts(con, manifest)


def adopt_mart_history(con: duckdb.DuckDBPyConnection, manifest: Manifest) -> list[str]:
    """A closing mart used to be the incremental table itself; now its as-built model is.
    A warehouse built before that holds the mart's history in ``marts.<mart>``: it becomes
    the as-built model's table (same columns), so the first build after the upgrade adds
    its window to all of history instead of starting an empty table. Returns the marts
    adopted."""
    adopted = []
    for spec in closing_marts(manifest):
        if spec.as_built is None or spec.as_built == spec.relation:
            continue
        schema, table = _schema_table(spec.as_built)
        was_table = con.execute(
            "select count(*) from information_schema.tables where table_schema = ? "
            "and table_name = ? and table_type = 'BASE TABLE'",
            ["marts", spec.name],
        ).fetchone()[0]
        if was_table and not table_exists(con, schema, table):
            con.execute(f"create schema if not exists {schema}")
            con.execute(f'create table {schema}.{table} as select * from marts."{spec.name}"')
            con.execute(f'drop table marts."{spec.name}"')  # dbt makes it the view
            adopted.append(spec.name)
    return adopted


def freeze_new_closing_marts(con: duckdb.DuckDBPyConnection, manifest: Manifest) -> list[str]:
    """A closing mart added after months were closed (an upgrade) has no rows of them as
    closed: its view would show such a month empty and carry all of it as an adjustment.
    Each such month's rows are frozen under its close from what its as-built model holds
    now, the nearest to "as closed" left, with their checksum; the mart's later runs then
    treat them like any close's. Returns "mart period" for each month frozen."""
    if not table_exists(con, "audit", "period_checksums"):
        return []
    closes = con.execute(f"select period, event_id from ({current_closes_sql()}) as c").fetchall()
    frozen = []
    for spec in closing_marts(manifest):
        if spec.as_built is None or spec.as_built == spec.relation:
            continue
        recorded = {
            event
            for (event,) in con.execute(
                "select event_id from audit.period_checksums where mart = ?", [spec.name]
            ).fetchall()
        }
        missing = [(period, event) for period, event in closes if event not in recorded]
        if not missing or not table_exists(con, *_schema_table(spec.as_built)):
            continue
        node = manifest.nodes[f"model.yecai.{spec.name}"]
        _create_frozen_table(con, spec.name, node["columns"])
        built = ", ".join(
            c if c not in ADJUSTMENT_VALUES else f"{ADJUSTMENT_VALUES[c]} as {c}"
            for c in spec.columns
        )
        columns = ", ".join(spec.columns)
        for period, event in missing:
            con.execute(
                f"insert into {FROZEN_SCHEMA}.{spec.name} (close_event_id, {columns}) "
                f"select ?, {built} from {spec.as_built} "
                f"where {in_period(spec, '?')} and ({spec.as_built_rows})",
                [event, period],
            )
            rows = f"(select * from {FROZEN_SCHEMA}.{spec.name} where close_event_id = ?) as f"
            [figures] = con.execute(figures_sql(spec, rows, "?"), [event, period]).fetchall()
            con.execute(
                "insert into audit.period_checksums values (?, ?, ?, ?, ?)",
                [event, period, spec.name, *figures],
            )
            frozen.append(f"{spec.name} {period}")
    return frozen


# A row as built is no adjustment (the columns macros/closed_periods.sql adds to a mart).
ADJUSTMENT_VALUES = {
    "is_adjustment": "false",
    "adjusts_period": "cast(null as varchar)",
    "adjustment_files": "cast(null as varchar)",
    "adjustment_runs": "cast(null as varchar)",
}


def _schema_table(relation: str) -> tuple[str, str]:
    schema, table = (part.strip('"') for part in relation.split(".")[-2:])
    return schema, table


def _create_frozen_table(
    con: duckdb.DuckDBPyConnection, mart: str, columns: dict[str, dict]
) -> None:
    """As dbt's on-run-start creates it (create_closed_table): the mart's contract columns
    and the close's event id."""
    typed = "".join(f", {name} {spec['data_type']}" for name, spec in columns.items())
    con.execute(f"create schema if not exists {FROZEN_SCHEMA}")
    con.execute(
        f"create table if not exists {FROZEN_SCHEMA}.{mart} "
        f"(close_event_id varchar not null{typed})"
    )


def published_months(build_db: Path) -> list[PeriodStatus]:
    """Every month a publication covered, and every month ever closed: closed now (by
    whom, when, why) or open (reopened: by whom, when, why)."""
    with duckdb.connect(str(build_db), read_only=True, config=duckdb_config()) as con:
        months: set[str] = set()
        if table_exists(con, "audit", "publications"):
            for start, end in con.execute(
                "select window_start, window_end from audit.publications"
            ).fetchall():
                months.update(f"{day:%Y-%m}" for day in Window(start, end).days())
        latest = {}
        adjusted = _adjusted_marts(con)
        if table_exists(con, "audit", "period_events"):
            for period, action, by, at, reason in con.execute(
                f"select period, action, done_by, done_at, reason from ({latest_events_sql()}) as l"
            ).fetchall():
                closed = action == CLOSE
                latest[period] = PeriodStatus(
                    period,
                    "closed" if closed else "open",
                    by,
                    at,
                    reason,
                    adjusted.get(period, ()) if closed else (),
                )
    return [latest.get(m, PeriodStatus(m, "open")) for m in sorted(months | set(latest))]


def _adjusted_marts(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, ...]]:
    """Per closed month, the marts whose figures of it late data has changed since the
    close (as of the last run: the differences dbt computes)."""
    if not table_exists(con, DIFFERENCES_SCHEMA, DIFFERENCES):
        return {}
    rows = con.execute(
        f"select d.adjusts_period, string_agg(distinct d.mart, ',' order by d.mart) "
        f"from {DIFFERENCES_SCHEMA}.{DIFFERENCES} as d "
        f"join ({current_closes_sql()}) as c on d.close_event_id = c.event_id "
        "where d.adjustment_amount <> 0 group by d.adjusts_period"
    ).fetchall()
    return {period: tuple(marts.split(",")) for period, marts in rows}


def close_blockers(con: duckdb.DuckDBPyConnection, window: Window, first_date: date) -> list[str]:
    """Why each business date of the window may not be closed (none: it may).

    A date may be closed when a publication covered it (a run publishes only when every
    error gate of its window passed) and no window built since is unpublished.
    """
    published = con.execute("select window_start, window_end from audit.publications").fetchall()
    unpublished = con.execute(
        "select run_id, window_start, window_end from audit.unpublished_windows order by built_at"
    ).fetchall()
    failed_gates = dict(
        con.execute(
            "select run_id, string_agg(distinct gate, ', ' order by gate) from audit.gate_results "
            "where not passed and severity = 'error' group by run_id"
        ).fetchall()
    )
    reopens = {
        event: period
        for event, period in con.execute(
            "select event_id, period from audit.period_events where action = ?", [REOPEN]
        ).fetchall()
    }
    reasons: dict[date, str] = {}
    for day in window.days():
        if day < first_date:
            continue  # before this home's first business date: nothing to publish
        pending = [run for run, start, end in unpublished if start <= day <= end]
        if pending and pending[-1] in reopens:
            reasons[day] = (
                f"reopened ({reopens[pending[-1]]}) and not published since: "
                "run any date (yecai run) to publish it"
            )
        elif pending:
            gates = failed_gates.get(pending[-1])
            why = f"its error gates failed ({gates})" if gates else "it was not published"
            reasons[day] = f"built by run {pending[-1]} and not published: {why}"
        elif not any(start <= day <= end for start, end in published):
            reasons[day] = "never published (run the dates: yecai run --start D --end D)"
    return _as_ranges(reasons)


def _as_ranges(reasons: dict[date, str]) -> list[str]:
    """Consecutive dates with the same reason as one line: 2024-02-01..2024-02-29: why."""
    lines: list[str] = []
    days = sorted(reasons)
    while days:
        first = last = days.pop(0)
        while days and days[0] == last + timedelta(days=1) and reasons[days[0]] == reasons[first]:
            last = days.pop(0)
        span = str(first) if first == last else f"{first}..{last}"
        lines.append(f"{span}: {reasons[first]}")
    return lines


@dataclass(frozen=True)
class Close:
    period: str
    event_id: str
    checksums: dict[str, tuple[int, str]]  # mart → (rows, checksum)


def close_period(
    settings: Settings,
    manifest: Manifest,
    period: str,
    by: str,
    reason: str | None,
    run_id: str | None = None,
    note: Callable[[str], None] = lambda _: None,
) -> Close:
    """Close ``period``: refused (PeriodRefused, naming each blocking date) unless every
    business date of it is published with its error gates passed."""
    period = parse_period(period)
    if not settings.build_db.exists() or not settings.marts_db.exists():
        raise PeriodRefused(f"nothing is published in {settings.home} yet: run `yecai run` first")
    with (
        writer_lock(settings.warehouse, f"yecai close-period {period}", note),
        duckdb.connect(str(settings.build_db), config=duckdb_config()) as con,
    ):
        ensure_tables(con)
        _refuse_unless_closeable(con, settings, period)
        checksums = _published_checksums(con, settings.marts_db, closing_marts(manifest), period)
        event_id = uuid.uuid4().hex
        con.begin()  # the frozen rows and the close that shows them, or neither
        for spec in closing_marts(manifest):  # before the close: the marts show it as built
            _freeze(con, spec, period, event_id)
        _record(con, period, CLOSE, by, reason, run_id, event_id)
        con.executemany(
            "insert into audit.period_checksums values (?, ?, ?, ?, ?)",
            [(event_id, period, mart, *figures) for mart, figures in checksums.items()],
        )
        con.commit()
    return Close(period, event_id, checksums)


def _freeze(con: duckdb.DuckDBPyConnection, spec: MartSpec, period: str, event_id: str) -> None:
    """Keep the month's rows of the mart as closed (``closed.<mart>``, which the mart's
    view shows from now on); the rows of an earlier close of the month are superseded."""
    columns = ", ".join(spec.columns)
    con.execute(
        f"delete from {FROZEN_SCHEMA}.{spec.name} where close_event_id in "
        "(select event_id from audit.period_events where period = ? and event_id <> ?)",
        [period, event_id],
    )
    con.execute(
        f"insert into {FROZEN_SCHEMA}.{spec.name} (close_event_id, {columns}) "
        f"select ?, {columns} from {spec.relation} where {in_period(spec, '?')}",
        [event_id, period],
    )


def _refuse_unless_closeable(
    con: duckdb.DuckDBPyConnection, settings: Settings, period: str
) -> None:
    for needed in ("gate_results", "unpublished_windows", "publications"):
        if not table_exists(con, "audit", needed):
            raise PeriodRefused(f"no run has published this warehouse yet (audit.{needed})")
    current = con.execute(
        f"select done_by, done_at from ({current_closes_sql()}) as c where period = ?", [period]
    ).fetchall()
    if current:
        by_whom, when = current[0]
        raise PeriodRefused(
            f"{period} is already closed (by {by_whom} at {when:%Y-%m-%d %H:%M %Z}); "
            f"reopen it first: yecai reopen-period {period} --by NAME --reason TEXT"
        )
    blockers = close_blockers(con, month_window(period), settings.start_date)
    if blockers:
        raise PeriodRefused(
            f"{period} cannot be closed; each business date must be published with its "
            "error gates passed:\n" + "\n".join(f"  - {b}" for b in blockers)
        )


def _published_checksums(
    con: duckdb.DuckDBPyConnection, marts_db: Path, specs: list[MartSpec], period: str
) -> dict[str, tuple[int, str]]:
    """Each mart's figures of the month as published; refused if build.duckdb's differ
    (changes built and not yet published)."""
    con.execute(f"attach {sql_literal(marts_db)} as published (read_only)")
    try:
        checksums, differ = {}, []
        for spec in specs:
            literal = sql_literal(period)
            published = con.execute(
                figures_sql(spec, f'published.main."{spec.name}"', literal)
            ).fetchone()
            if con.execute(figures_sql(spec, spec.relation, literal)).fetchone() != published:
                differ.append(spec.name)
            checksums[spec.name] = published
    finally:
        con.execute("detach published")
    if differ:
        raise PeriodRefused(
            f"{period} cannot be closed: build.duckdb holds changes to it not yet published "
            f"({', '.join(differ)}); run the pending dates first"
        )
    return checksums


def reopen_period(
    settings: Settings,
    period: str,
    by: str,
    reason: str,
    run_id: str | None = None,
    note: Callable[[str], None] = lambda _: None,
) -> str:
    """Reopen a closed ``period``: its figures may move again until it is closed anew."""
    period = parse_period(period)
    if not by.strip() or not reason.strip():
        raise PeriodRefused("a reopen needs --by NAME and --reason TEXT: both are audited")
    if not settings.build_db.exists():
        raise PeriodRefused(f"nothing is built in {settings.home} yet")
    with (
        writer_lock(settings.warehouse, f"yecai reopen-period {period}", note),
        duckdb.connect(str(settings.build_db), config=duckdb_config()) as con,
    ):
        ensure_tables(con)
        closed = con.execute(
            f"select count(*) from ({current_closes_sql()}) as c where period = ?", [period]
        ).fetchone()[0]
        if not closed:
            raise PeriodRefused(f"{period} is not closed: nothing to reopen")
        carriers = _closed_months_carrying(con, period)
        if carriers:
            raise PeriodRefused(
                f"{period} cannot be reopened: closed months carry its adjustments "
                f"({', '.join(carriers)}); reopen those first, latest first"
            )
        event_id = _record(con, period, REOPEN, by, reason, run_id)
        # The month shows as built again: the next run gates and publishes it.
        pending.record_unpublished(con, event_id, month_window(period))
        return event_id


def _closed_months_carrying(con: duckdb.DuckDBPyConnection, period: str) -> list[str]:
    """The closed months whose frozen rows hold adjustment rows for ``period``."""
    carriers: set[str] = set()
    for (mart,) in con.execute(
        "select table_name from information_schema.columns "
        "where table_schema = ? and column_name = 'is_adjustment'",
        [FROZEN_SCHEMA],
    ).fetchall():
        carriers.update(
            closed
            for (closed,) in con.execute(
                f"select distinct c.period from {FROZEN_SCHEMA}.{mart} as f "
                f"join ({current_closes_sql()}) as c on f.close_event_id = c.event_id "
                "where f.is_adjustment and f.adjusts_period = ?",
                [period],
            ).fetchall()
        )
    return sorted(carriers)


def _record(
    con: duckdb.DuckDBPyConnection,
    period: str,
    action: str,
    by: str,
    reason: str | None,
    run_id: str | None,
    event_id: str | None = None,
) -> str:
    event_id = event_id or uuid.uuid4().hex
    con.execute(
        "insert into audit.period_events values (?, ?, ?, ?, ?, ?, ?)",
        [event_id, period, action, by, reason, datetime.now(UTC), run_id],
    )
    return event_id
