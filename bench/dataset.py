"""A large synthetic world for benchmarks and load tests, loaded in bulk into an empty, migrated database.

Organisations (each with an admin and two programs, made by the product's own domain functions), then in bulk:
staff (clinicians, case managers and peer mentors), members with their roles, activity tags and a warning sign,
care relationships with each role's default consent (`care.models.DEFAULT_SHARING`), enrolments, check-ins from
the synthetic cohort generator (`monitoring.synthetic.generate_chunks`: trajectories, missed days, several a day
for some, each on its member's local calendar) with their tag links, questionnaire responses every 14 days
(scored and banded as `instruments.score` does), and each member's ground truth. Detector states are not
written: `alongside signals rescan` (`rebuild_detector_states`) builds them from the check-ins.

Bulk rows bypass the domain functions on purpose: at 100,000 members they would take hours (one Argon2 hash per
person alone would). Every person gets the same password hash, made once: sign in with `PASSWORD`. Staff also
get a confirmed authenticator whose key is `STAFF_TOTP_KEY`, so load tests can pass the second factor.

PostgreSQL: COPY (text format) through psycopg, ids taken from each table's sequence a block at a time. SQLite:
`executemany`, with the connection settings the application uses. One transaction per block of members; the
database's indexes and constraints stay in place unless `drop_indexes` is asked for (PostgreSQL only).
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time

import numpy as np

# The one password of every generated person (hashed once, with the configured hasher).
PASSWORD = "alongside-load-test"
# Every generated staff member's authenticator (hex, as django-otp stores it): the RFC 6238 example secret.
STAFF_TOTP_KEY = "3132333435363738393031323334353637383930"
EMAIL_DOMAIN = "bench.example"

# Staff roles and their shares of the staff (largest remainder decides the odd ones out).
STAFF_MIX = (("clinician", 0.4), ("case_manager", 0.3), ("peer_mentor", 0.3))
# Organisations' countries and time zones, in turn; their members live in the same zone.
PLACES = (
    ("US", "America/New_York"),
    ("GB", "Europe/London"),
    ("AU", "Australia/Sydney"),
    ("CA", "America/Vancouver"),
    ("IE", "Europe/Dublin"),
)
PROGRAMS = ("Aftercare", "Intensive outpatient")
WARNING_SIGN = "Isolating"
SIGN_CRAVINGS = 7  # a check-in with cravings this high names the member's warning sign
NOTES = (
    "Slept badly, better after a walk.",
    "Talked to my sponsor.",
    "Busy day at work.",
    "Felt low in the evening.",
    "Good meeting today.",
)


class DatasetError(Exception):
    """The database cannot take the dataset (it is not empty); the message says what to do."""


@dataclass(frozen=True)
class Shape:
    """What to generate."""

    members: int
    days: int
    staff: int
    organisations: int = 0  # 0: one per 20,000 members (at least one)
    caseload: int = 20  # members per staff member
    seed: int = 20261126
    notes: float = 0.0  # share of check-ins with an (encrypted) note
    chunk: int = 1000  # members per transaction

    def __post_init__(self):
        if self.members < 1 or self.days < 1:
            raise ValueError("members and days must be at least 1")
        if not 0 <= self.notes <= 1:
            raise ValueError("notes is a share of check-ins, from 0 to 1")

    @property
    def organisation_count(self) -> int:
        wanted = self.organisations or max(1, self.members // 20_000)
        return max(1, min(wanted, self.members))


@dataclass
class Loaded:
    rows: dict[str, int] = field(default_factory=dict)  # table: rows written
    seconds: float = 0.0  # the whole load
    generate_seconds: float = 0.0  # of which drawing the cohort
    write_seconds: dict[str, float] = field(default_factory=dict)  # table: seconds spent writing its rows
    finish_seconds: float = 0.0  # indexes rebuilt (if dropped) and statistics, after the rows
    keys_trusted: bool = False  # foreign keys not checked row by row (PostgreSQL, when allowed)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def counts(plan: Shape) -> dict[str, int]:
    """Members and staff per organisation, and staff per role in each (lists indexed by organisation)."""
    n = plan.organisation_count
    members = _split(plan.members, n)
    staff = _split(plan.staff, n)
    return {"members": members, "staff": staff}


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if index < total % parts else 0) for index in range(parts)]


def _by_role(staff: int) -> list[int]:
    exact = [staff * share for _role, share in STAFF_MIX]
    whole = [int(value) for value in exact]
    order = sorted(range(len(exact)), key=lambda index: whole[index] - exact[index])
    for index in order[: staff - sum(whole)]:
        whole[index] += 1
    return whole


# Writing rows ------------------------------------------------------------------------------------------------


class Writer:
    """Rows of one model at a time, as columns, into the database Django is connected to."""

    def __init__(self, connection, now: datetime):
        self.connection = connection
        self.postgres = connection.vendor == "postgresql"
        self.now = now
        self.rows: dict[str, int] = {}
        self.seconds: dict[str, float] = {}  # table: time spent writing it (where written in this thread)
        self._next_id: dict[str, int] = {}
        # PostgreSQL, in the background: (table, COPY statement, text) kept here for another thread to write.
        self.pending: list[tuple[str, str, str]] | None = None

    # Ids: PostgreSQL's sequence is moved past a whole block at once; SQLite takes what it is given.
    def ids(self, model, n: int) -> np.ndarray:
        table = model._meta.db_table
        if self.postgres:
            with self.connection.cursor() as cursor:
                cursor.execute(
                    "SELECT setval(s, nextval(s) + %s - 1) FROM pg_get_serial_sequence(%s, 'id') AS s", [n, table]
                )
                last = cursor.fetchone()[0]
            return np.arange(last - n + 1, last + 1, dtype=np.int64)
        if table not in self._next_id:
            with self.connection.cursor() as cursor:
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {self.connection.ops.quote_name(table)}")  # noqa: S608
                self._next_id[table] = cursor.fetchone()[0]
        first = self._next_id[table]
        self._next_id[table] = first + n
        return np.arange(first, first + n, dtype=np.int64)

    # Column encoders: numpy arrays in, what the driver takes out (text for COPY; Python values for SQLite).
    def ints(self, values) -> list:
        values = np.asarray(values)
        return values.astype(str).tolist() if self.postgres else values.tolist()

    def nullable_ints(self, values) -> list:
        """-1 means NULL."""
        values = np.asarray(values)
        if self.postgres:
            return np.where(values < 0, "\\N", values.astype(str)).tolist()
        return [None if value < 0 else value for value in values.tolist()]

    def texts(self, values) -> list:
        return np.asarray(values).tolist()

    def datetimes(self, values) -> list:
        """datetime64 (UTC) to what the datetime columns take."""
        text = np.strings.replace(np.datetime_as_string(np.asarray(values, dtype="datetime64[s]"), unit="s"), "T", " ")
        return (np.strings.add(text, "+00") if self.postgres else text).tolist()

    def dates(self, values) -> list:
        return np.datetime_as_string(np.asarray(values, dtype="datetime64[D]")).tolist()

    def scalar(self, value):
        if isinstance(value, datetime):
            value = value.astimezone(UTC)
            return value.isoformat(" ") if self.postgres else value.replace(tzinfo=None).isoformat(" ")
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, dict | list):
            value = json.dumps(value)
        if not self.postgres:
            return value
        if value is None:
            return "\\N"
        if isinstance(value, bool):
            return "t" if value else "f"
        return str(value)

    def write(self, model, n: int, columns: dict) -> None:
        """Write n rows. `columns` maps field names (or attnames) to lists of n encoded values, or to one plain
        value for every row; fields not named get their default (their creation time for auto_now ones)."""
        if n == 0:
            return
        names, values = [], []
        given = dict(columns)
        for model_field in model._meta.concrete_fields:
            if model_field.attname in given:
                value = given.pop(model_field.attname)
            elif model_field.name in given:
                value = given.pop(model_field.name)
            elif getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
                value = self.now
            elif model_field.has_default():
                value = model_field.get_default()
            elif model_field.null:
                value = None
            elif model_field.blank and model_field.get_internal_type() in ("CharField", "TextField"):
                value = ""
            else:
                raise ValueError(f"{model.__name__}.{model_field.name} needs a value")
            names.append(model_field.column)
            if isinstance(value, list):
                if len(value) != n:
                    raise ValueError(f"{model.__name__}.{model_field.name}: {len(value)} values for {n} rows")
                values.append(value)
            else:
                values.append(itertools.repeat(self.scalar(value), n))
        if given:
            raise ValueError(f"{model.__name__} has no fields {sorted(given)}")
        quote = self.connection.ops.quote_name
        table = quote(model._meta.db_table)
        column_list = ", ".join(quote(name) for name in names)
        rows = zip(*values, strict=False)  # lengths checked above; one value for every row repeats
        name = model._meta.db_table
        self.rows[name] = self.rows.get(name, 0) + n
        if self.postgres:
            text = "\n".join(map("\t".join, rows)) + "\n"
            statement = f"COPY {table} ({column_list}) FROM STDIN"
            if self.pending is not None:
                self.pending.append((name, statement, text))
            else:
                _add(self.seconds, _copy([(name, statement, text)], self.connection))
        else:
            started = time.perf_counter()
            marks = ", ".join("?" * len(names))
            statement = f"INSERT INTO {table} ({column_list}) VALUES ({marks})"  # noqa: S608 (names from the models)
            self.connection.connection.executemany(statement, rows)
            _add(self.seconds, {name: time.perf_counter() - started})

    def write_integers(self, model, columns: dict[str, np.ndarray]) -> None:
        """Rows whose every column is a whole number, none missing (a many-to-many table). On PostgreSQL they go
        as binary COPY, laid out by numpy: the server then parses no text, for the largest table of all."""
        if not self.postgres:
            self.write(model, len(next(iter(columns.values()))), {key: self.ints(v) for key, v in columns.items()})
            return
        fields = [model._meta.get_field(name) for name in columns]
        if {f.attname for f in model._meta.concrete_fields} != {f.attname for f in fields}:
            raise ValueError(f"{model.__name__}: every column is needed")
        widths = {"bigint": 8, "integer": 4, "smallint": 2}
        layout = [("count", ">i2")]
        for index, model_field in enumerate(fields):
            kind = model_field.rel_db_type(self.connection) if model_field.is_relation else None
            kind = (kind or model_field.db_type(self.connection)).split()[0]
            layout += [(f"length{index}", ">i4"), (f"value{index}", f">i{widths[kind]}")]
        n = len(next(iter(columns.values())))
        rows = np.empty(n, dtype=np.dtype(layout))
        rows["count"] = len(fields)
        for index, values in enumerate(columns.values()):
            rows[f"length{index}"] = rows.dtype[f"value{index}"].itemsize
            rows[f"value{index}"] = values
        header = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") * 2
        data = header + rows.tobytes() + (-1).to_bytes(2, "big", signed=True)
        quote = self.connection.ops.quote_name
        name = model._meta.db_table
        statement = f"COPY {quote(name)} ({', '.join(quote(f.column) for f in fields)}) FROM STDIN (FORMAT BINARY)"
        self.rows[name] = self.rows.get(name, 0) + n
        if self.pending is not None:
            self.pending.append((name, statement, data))
        else:
            _add(self.seconds, _copy([(name, statement, data)], self.connection))


def _add(totals: dict[str, float], seconds: dict[str, float]) -> None:
    for name, value in seconds.items():
        totals[name] = totals.get(name, 0.0) + value


def _copy(statements: list[tuple[str, str, str]], connection) -> dict[str, float]:
    """COPY each (table, statement, text) through the connection; returns the seconds each table took."""
    seconds: dict[str, float] = {}
    for name, statement, text in statements:
        started = time.perf_counter()
        with connection.connection.cursor() as cursor, cursor.copy(statement) as copy:
            copy.write(text)
        _add(seconds, {name: time.perf_counter() - started})
    return seconds


def _write_block(statements: list[tuple[str, str, str]]) -> dict[str, float]:
    """In the background thread, on its own connection: one block's rows in one transaction."""
    from django.db import connection, transaction

    with transaction.atomic():
        return _copy(statements, connection)


def _trust_keys() -> bool:
    """Let this connection skip the foreign-key triggers (where the server allows it): every id the loader
    writes refers to a row it wrote before, so checking each of tens of millions again only takes time."""
    from django.db import DatabaseError, connection, transaction

    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
    except DatabaseError:
        return False
    return True


# The world ---------------------------------------------------------------------------------------------------


def refuse_unless_empty() -> None:
    """Raise DatasetError if the database holds people or check-ins already."""
    from alongside.accounts.models import Organisation, User
    from alongside.monitoring.models import CheckIn

    for model, what in ((User, "people"), (Organisation, "organisations"), (CheckIn, "check-ins")):
        if model.objects.exists():
            raise DatasetError(
                f"This database already has {what} in it ({model.objects.count():,}). The dataset loader fills an "
                "empty, migrated database only: point it at a new database (or drop this one and migrate again)."
            )


@dataclass
class _Organisation:
    pk: int
    members: range  # global member positions
    zone: str
    program_ids: list[int]
    phase_ids: list[int]  # each program's first phase
    thresholds: list[dict[str, int]]  # each program's caseness thresholds
    staff: dict[str, np.ndarray] = field(default_factory=dict)  # role: staff ids


def load(
    plan: Shape,
    *,
    progress: Callable[[int, int], None] | None = None,
    drop_indexes: bool = False,
    trust_keys: bool = True,
    now: datetime | None = None,
) -> Loaded:
    """Fill the empty, migrated database with `plan`'s world. `progress(rows written, rows expected)` after
    each block (the expectation is refined as blocks come). Refuses (DatasetError) a database that has people.

    On PostgreSQL, outside a transaction, a background thread with a connection of its own writes each block (in
    one transaction) while the next is generated and encoded, and (with `trust_keys`, where the server allows
    it) skips the foreign-key checks; inside a transaction (a test's) everything is written in it, checked.
    `drop_indexes` (PostgreSQL only) drops the bulk tables' secondary indexes first and builds them at the end."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone

    started = time.perf_counter()
    refuse_unless_empty()
    now = now or timezone.now()
    start_date = now.date() - timedelta(days=plan.days)  # their last day is yesterday
    history_start = datetime.combine(start_date, clock_time(0), tzinfo=UTC)
    password = make_password(PASSWORD)
    writer = Writer(connection, now)
    result = Loaded()

    with transaction.atomic():
        organisations = _organisations(plan, password, history_start)
        _staff(plan, organisations, writer, password, history_start)
    dropped = _drop_indexes(connection) if drop_indexes and writer.postgres else []

    from alongside.monitoring import synthetic

    zones = [org.zone for org in organisations for _ in org.members]
    org_of = np.repeat(np.arange(len(organisations)), [len(org.members) for org in organisations])
    chunks = synthetic.generate_chunks(
        plan.members, plan.days, seed=plan.seed, start_date=start_date, time_zone=zones, chunk_size=plan.chunk
    )
    background = writer.postgres and not connection.in_atomic_block
    pool = ThreadPoolExecutor(1, thread_name_prefix="dataset") if background else None
    writing = None
    try:
        if pool is not None and trust_keys:
            result.keys_trusted = pool.submit(_trust_keys).result()
        while True:
            step = time.perf_counter()
            cohort = next(chunks, None)
            result.generate_seconds += time.perf_counter() - step
            if cohort is None:
                break
            arguments = (plan, cohort, organisations, org_of, writer, password, history_start, start_date)
            if pool is None:
                with transaction.atomic():
                    _block(*arguments)
            else:
                writer.pending = []
                _block(*arguments)
                if writing is not None:
                    _add(writer.seconds, writing.result())
                writing = pool.submit(_write_block, writer.pending)
            if progress:
                done_members = cohort.first_member + cohort.n_members
                done_rows = sum(writer.rows.values())
                progress(done_rows, round(done_rows * plan.members / done_members))
        if writing is not None:
            _add(writer.seconds, writing.result())
    finally:
        if pool is not None:
            pool.submit(lambda: connection.close()).result()  # the thread's own connection
            pool.shutdown()
        step = time.perf_counter()
        _finish(connection, dropped)  # a failed load keeps its indexes too
        result.finish_seconds = time.perf_counter() - step
    result.rows = dict(writer.rows)
    result.write_seconds = dict(writer.seconds)
    result.seconds = time.perf_counter() - started
    return result


def _organisations(plan: Shape, password: str, history_start: datetime) -> list[_Organisation]:
    """Organisations, their admins and programs, through the product's own functions."""
    from alongside.accounts import actions as accounts
    from alongside.accounts.models import Role
    from alongside.programs import actions as programs

    made = []
    position = 0
    for index, members in enumerate(counts(plan)["members"]):
        country, zone = PLACES[index % len(PLACES)]
        organisation = accounts.create_organisation(
            f"Bench organisation {index + 1}", country, time_zone=zone, slug=f"bench-{index + 1}"
        )
        admin = accounts.create_person(f"admin{index + 1}@{EMAIL_DOMAIN}", f"Admin {index + 1}", None, time_zone=zone)
        admin.password = password
        admin.save(update_fields=["password"])
        accounts.grant_role(admin, organisation, Role.ORG_ADMIN)
        created = [programs.create_program(by=admin, organisation=organisation, name=name) for name in PROGRAMS]
        made.append(
            _Organisation(
                pk=organisation.pk,
                members=range(position, position + members),
                zone=zone,
                program_ids=[program.pk for program in created],
                phase_ids=[program.phases.order_by("position").first().pk for program in created],
                thresholds=[dict(program.settings.get("caseness_thresholds", {})) for program in created],
            )
        )
        position += members
    return made


def _people(writer: Writer, n: int, emails: list[str], names: list[str], zone: str, password: str, joined):
    from alongside.accounts.models import User

    ids = writer.ids(User, n)
    writer.write(
        User,
        n,
        {"id": writer.ints(ids), "email": emails, "display_name": names, "time_zone": zone, "password": password,
         "date_joined": joined, "is_superuser": False},
    )  # fmt: skip
    return ids


def _staff(plan: Shape, organisations: list[_Organisation], writer: Writer, password: str, history_start) -> None:
    """Staff people with their roles and a confirmed authenticator each."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from alongside.accounts.models import OrgRole

    numbers = {role: 0 for role, _share in STAFF_MIX}
    for organisation, staff in zip(organisations, counts(plan)["staff"], strict=True):
        for (role, _share), n in zip(STAFF_MIX, _by_role(staff), strict=True):
            first = numbers[role] + 1
            numbers[role] += n
            word = role.replace("_", "-")
            emails = [f"{word}{k}@{EMAIL_DOMAIN}" for k in range(first, first + n)]
            names = [f"{role.replace('_', ' ').capitalize()} {k}" for k in range(first, first + n)]
            ids = _people(writer, n, emails, names, organisation.zone, password, history_start)
            organisation.staff[role] = ids
            writer.write(
                OrgRole,
                n,
                {"id": writer.ints(writer.ids(OrgRole, n)), "user_id": writer.ints(ids),
                 "organisation_id": organisation.pk, "role": role, "granted_at": history_start},
            )  # fmt: skip
            writer.write(
                TOTPDevice,
                n,
                {"id": writer.ints(writer.ids(TOTPDevice, n)), "user_id": writer.ints(ids),
                 "name": "load-test authenticator", "confirmed": True, "key": STAFF_TOTP_KEY},
            )  # fmt: skip


def _supporters(plan: Shape, organisation: _Organisation, local: np.ndarray):
    """(member positions within the organisation, staff ids, roles) of the relationships of these members.

    Each role's staff take `caseload` members each, in turn from where the previous role stopped, wrapping
    around the organisation's members: at 5,000 staff for 100,000 members every member has one supporter; with
    more staff per member, members have several (never the same person twice in one role)."""
    size = len(organisation.members)
    caseload = min(plan.caseload, size)
    offset = 0
    found_members, found_staff, found_roles = [], [], []
    for role, _share in STAFF_MIX:
        ids = organisation.staff.get(role, np.empty(0, dtype=np.int64))
        covered = len(ids) * caseload
        position = (local - offset) % size
        turn = 0
        while True:
            place = position + turn * size
            hit = place < covered
            if not hit.any():
                break
            found_members.append(local[hit])
            found_staff.append(ids[place[hit] // caseload])
            found_roles.append(np.full(hit.sum(), role, dtype=object))
            turn += 1
        offset = (offset + covered) % size
    if not found_members:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), np.empty(0, dtype=object)
    members, staff, roles = map(np.concatenate, (found_members, found_staff, found_roles))
    order = np.argsort(members, kind="stable")
    return members[order], staff[order], roles[order]


def _block(plan, cohort, organisations, org_of, writer: Writer, password, history_start, start_date) -> None:
    """One block of members and everything of theirs."""
    from alongside.accounts.models import OrgRole
    from alongside.care.models import DEFAULT_SHARING, CareRelationship, ConsentGrant
    from alongside.monitoring.models import DEFAULT_ACTIVITIES, CheckIn, SyntheticTruth, Tag, TagKind
    from alongside.programs.models import Enrolment

    first, n = cohort.first_member, cohort.n_members
    positions = np.arange(first, first + n)
    member_ids = np.empty(n, dtype=np.int64)
    program_of = np.empty(n, dtype=np.int64)  # index into the member's organisation's programs
    relationships = []  # (member positions in the block, staff ids, roles, organisation pk)
    for index in np.unique(org_of[positions]).tolist():
        organisation = organisations[index]
        mine = np.flatnonzero(org_of[positions] == index)
        global_positions = positions[mine]
        count = len(mine)
        emails = [f"member{p + 1}@{EMAIL_DOMAIN}" for p in global_positions.tolist()]
        names = [f"Member {p + 1}" for p in global_positions.tolist()]
        ids = _people(writer, count, emails, names, organisation.zone, password, history_start)
        member_ids[mine] = ids
        writer.write(
            OrgRole,
            count,
            {"id": writer.ints(writer.ids(OrgRole, count)), "user_id": writer.ints(ids),
             "organisation_id": organisation.pk, "role": "member", "granted_at": history_start},
        )  # fmt: skip
        local = global_positions - organisation.members.start
        program_of[mine] = local % len(organisation.program_ids)
        programs = np.array(organisation.program_ids)[program_of[mine]]
        phases = np.array(organisation.phase_ids)[program_of[mine]]
        writer.write(
            Enrolment,
            count,
            {"id": writer.ints(writer.ids(Enrolment, count)), "program_id": writer.ints(programs),
             "member_id": writer.ints(ids), "phase_id": writer.ints(phases), "enrolled_at": history_start},
        )  # fmt: skip
        in_org, staff, roles = _supporters(plan, organisation, local)
        relationships.append((mine[np.searchsorted(local, in_org)], staff, roles, organisation.pk))

    # Care relationships and their default consent.
    for rows, staff, roles, organisation_pk in relationships:
        k = len(rows)
        relationship_ids = writer.ids(CareRelationship, k)
        alerts = np.array([DEFAULT_SHARING[role][1] for role in roles.tolist()])
        writer.write(
            CareRelationship,
            k,
            {"id": writer.ints(relationship_ids), "organisation_id": organisation_pk,
             "member_id": writer.ints(member_ids[rows]), "staff_id": writer.ints(staff), "role": roles.tolist(),
             "started_at": history_start, "created_at": history_start,
             "safety_alerts": [writer.scalar(bool(value)) for value in alerts.tolist()]},
        )  # fmt: skip
        categories = [sorted(DEFAULT_SHARING[role][0]) for role in roles.tolist()]
        per = np.array([len(chosen) for chosen in categories], dtype=np.int64)
        total = int(per.sum())
        writer.write(
            ConsentGrant,
            total,
            {"id": writer.ints(writer.ids(ConsentGrant, total)),
             "relationship_id": writer.ints(np.repeat(relationship_ids, per)),
             "category": [str(category) for chosen in categories for category in chosen],
             "granted_at": history_start},
        )  # fmt: skip

    # Each member's tags: the default activities, then one warning sign.
    labels = [(TagKind.ACTIVITY, label) for label in DEFAULT_ACTIVITIES] + [(TagKind.WARNING_SIGN, WARNING_SIGN)]
    tag_ids = writer.ids(Tag, n * len(labels)).reshape(n, len(labels))
    writer.write(
        Tag,
        n * len(labels),
        {"id": writer.ints(tag_ids.ravel()), "member_id": writer.ints(np.repeat(member_ids, len(labels))),
         "kind": [str(kind) for kind, _label in labels] * n, "label": [label for _kind, label in labels] * n,
         "archived": False},
    )  # fmt: skip
    writer.write(
        SyntheticTruth,
        n,
        {"id": writer.ints(writer.ids(SyntheticTruth, n)), "member_id": writer.ints(member_ids),
         "trajectory": [truth.trajectory for truth in cohort.truth()], "start_date": start_date,
         "onset_day": writer.nullable_ints(cohort.onset), "seed": cohort.seed},
    )  # fmt: skip

    _checkins(plan, cohort, writer, member_ids, tag_ids, start_date, CheckIn)
    _responses(cohort, writer, member_ids, program_of, org_of[positions], organisations, start_date)


def _checkins(plan, cohort, writer: Writer, member_ids, tag_ids, start_date, CheckIn) -> None:
    from alongside.core import crypto
    from alongside.monitoring import synthetic
    from alongside.monitoring.models import DEFAULT_ACTIVITIES

    c = cohort.checkins
    k = len(c)
    ids = writer.ids(CheckIn, k)
    sleep = np.where(np.isnan(c.sleep_hours), -1.0, np.round(c.sleep_hours.astype(float), 2))
    if writer.postgres:
        sleep_column = np.where(sleep < 0, "\\N", sleep.astype(str)).tolist()
    else:
        sleep_column = [None if value < 0 else value for value in sleep.tolist()]
    medication = np.array([*synthetic.MEDICATION, ""])  # index -1: not asked
    recorded = writer.datetimes(c.recorded_at)
    notes: list[str] | str = ""
    if plan.notes:
        rng = np.random.default_rng([plan.seed, cohort.first_member])
        chosen = np.flatnonzero(rng.random(k) < plan.notes)
        notes = [""] * k
        for index, text in zip(chosen.tolist(), rng.choice(len(NOTES), len(chosen)).tolist(), strict=True):
            notes[index] = crypto.encrypt(NOTES[text])
    writer.write(
        CheckIn,
        k,
        {"id": writer.ints(ids), "member_id": writer.ints(member_ids[c.member]), "recorded_at": recorded,
         "local_date": writer.dates(np.datetime64(start_date, "D") + c.day.astype("timedelta64[D]")),
         "mood": writer.ints(c.mood), "anxiety": writer.nullable_ints(c.anxiety),
         "energy": writer.nullable_ints(c.energy), "sleep_hours": sleep_column,
         "sleep_quality": writer.nullable_ints(c.sleep_quality), "medication": medication[c.medication].tolist(),
         "cravings": writer.nullable_ints(c.cravings), "note": notes, "source": "synthetic",
         "created_at": recorded},
    )  # fmt: skip
    # Tag links: the activities the generator gave each check-in, and the warning sign on high cravings.
    bits = np.arange(len(DEFAULT_ACTIVITIES), dtype=np.uint16)
    which, activity = np.nonzero((c.activities[:, None] >> bits) & 1)
    signed = np.flatnonzero(c.cravings >= SIGN_CRAVINGS)
    checkins = np.concatenate([ids[which], ids[signed]])
    tags = np.concatenate([tag_ids[c.member[which], activity], tag_ids[c.member[signed], -1]])
    through = CheckIn.tags.through
    writer.write_integers(through, {"id": writer.ids(through, len(checkins)), "checkin_id": checkins, "tag_id": tags})


def _responses(cohort, writer: Writer, member_ids, program_of, org_index, organisations, start_date) -> None:
    """Questionnaire responses, scored as `instruments.score` scores them (the generator answers every item)."""
    from alongside.monitoring import instruments, synthetic
    from alongside.monitoring.models import QuestionnaireResponse

    r = cohort.responses
    k = len(r)
    if k == 0:
        return
    # Each member's caseness threshold by instrument, from their program's settings.
    codes = [instruments.get(code) for code in synthetic.INSTRUMENTS]
    answers_json = np.empty(k, dtype=object)
    band = np.empty(k, dtype=object)
    safety = np.empty(k, dtype=object)
    version = np.empty(k, dtype=object)
    name = np.empty(k, dtype=object)
    is_case = np.zeros(k, dtype=bool)
    raw = np.zeros(k, dtype=np.int64)
    for code_index, instrument in enumerate(codes):
        rows = np.flatnonzero(r.instrument == code_index)
        if not len(rows):
            continue
        items = r.answers[rows, : len(instrument.items)].astype(np.int64)
        text = np.full(len(rows), "{")
        for number in range(1, len(instrument.items) + 1):
            text = np.strings.add(text, f'{", " if number > 1 else ""}"{number}": ')
            text = np.strings.add(text, items[:, number - 1].astype(str))
        answers_json[rows] = np.strings.add(text, "}").tolist()
        raw[rows] = items.sum(axis=1)
        totals = raw[rows] * instrument.multiplier
        labels = np.array(
            [instrument.band_for(total) for total in range(instrument.total_min, instrument.total_max + 1)]
        )
        band[rows] = labels[totals - instrument.total_min]
        members = r.member[rows]
        thresholds = np.array(
            [
                organisations[org_index[m]]
                .thresholds[program_of[m]]
                .get(instrument.code, instrument.caseness_threshold)
                for m in range(len(member_ids))
            ]
        )[members]
        if instrument.caseness_direction == "at_or_above":
            is_case[rows] = totals >= thresholds
        else:
            is_case[rows] = totals <= thresholds
        # A safety rule is met by few responses: their lists are made one by one, the rest are empty.
        rules = np.array(sorted(instrument.safety_items), dtype=np.int64).reshape(-1, 2)
        met = items[:, rules[:, 0] - 1] >= rules[:, 1]
        listed = np.full(len(rows), "[]", dtype=object)
        for row in np.flatnonzero(met.any(axis=1)).tolist():
            listed[row] = json.dumps(rules[met[row], 0].tolist())
        safety[rows] = listed
        version[rows] = instrument.version
        name[rows] = instrument.code
    completed = writer.datetimes(r.recorded_at)
    writer.write(
        QuestionnaireResponse,
        k,
        {"id": writer.ints(writer.ids(QuestionnaireResponse, k)), "member_id": writer.ints(member_ids[r.member]),
         "instrument": name.tolist(), "instrument_version": version.tolist(), "answers": answers_json.tolist(),
         "raw_score": writer.ints(raw), "total": writer.ints(r.total), "band": band.tolist(), "complete": True,
         "is_case": [writer.scalar(bool(value)) for value in is_case.tolist()], "safety_items": safety.tolist(),
         "completed_at": completed, "local_date": writer.dates(np.datetime64(start_date, "D") +
                                                               r.day.astype("timedelta64[D]")),
         "source": "synthetic"},
    )  # fmt: skip


# PostgreSQL: secondary indexes dropped before the bulk and built again after it (optional) -----------------------

BULK_TABLES = ("monitoring_checkin", "monitoring_checkin_tags", "monitoring_questionnaireresponse", "monitoring_tag")


def _drop_indexes(connection) -> list[str]:
    """Drop the bulk tables' indexes that no constraint needs; return the statements that make them again."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT i.indexname, i.indexdef FROM pg_indexes i
               WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""",
            [list(BULK_TABLES)],
        )
        found = cursor.fetchall()
        for name, _definition in found:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    return [definition for _name, definition in found]


def _finish(connection, recreate: Iterable[str]) -> None:
    """Indexes made again (if dropped), and fresh planner statistics (what autovacuum would do later)."""
    with connection.cursor() as cursor:
        for statement in recreate:
            cursor.execute(statement)
        # VACUUM cannot run inside a transaction (a caller's, or a test's).
        vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
        cursor.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")


def rebuild_detector_states() -> tuple[int, float]:
    """What `alongside signals rescan` does: every member's early-warning state from their check-ins.
    Returns (check-ins read, seconds)."""
    from alongside.signals import rescan

    done = rescan.rescan()
    return done.checkins, done.seconds
