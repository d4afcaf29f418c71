"""Durable jobs: the transactional outbox, its relay, idempotent actors, the embedded runtime,
Redis in production and `kyodo worker`. Nothing is lost, nothing runs twice, nothing runs for a
change that rolled back."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from dramatiq import Actor, Message
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Middleware
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, update

from kyodo import audit
from kyodo.app import create_app
from kyodo.db import Database, Scope, utcnow
from kyodo.jobs import enqueue
from kyodo.jobs.relay import relay_once
from kyodo.jobs.runtime import JobsRuntime, make_broker
from kyodo.manifest import Manifest
from kyodo.models import AuditEvent, Notification, OutboxMessage
from kyodo.notifications import CREATE, notify
from kyodo.settings import Settings
from tests import support

KYODO = str(Path(sys.executable).with_name("kyodo"))
ORG, PERSON = "131016", "staff5@131016.example"


class Deliveries(Middleware):
    """Counts finished deliveries per message id, so a test knows a duplicate has run too."""

    def __init__(self) -> None:
        self.done: Counter[str] = Counter()
        self.lock = threading.Lock()

    def after_process_message(self, broker: Any, message: Any, *, result=None, exception=None):
        with self.lock:
            self.done[message.message_id] += 1


@asynccontextmanager
async def running(
    settings: Settings, **options: Any
) -> AsyncIterator[tuple[JobsRuntime, Deliveries]]:
    runtime = JobsRuntime(settings, consume=True, relay_seconds=0.05, **options)
    await runtime.start()
    deliveries = Deliveries()
    assert runtime.broker is not None
    runtime.broker.add_middleware(deliveries)
    try:
        yield runtime, deliveries
    finally:
        await runtime.stop()


async def count_for(db: Database, person_id: uuid.UUID, title: str) -> int:
    async with db.session(Scope(person_id=person_id)) as session:
        return (
            await session.scalar(
                select(func.count())
                .select_from(Notification)
                .where(Notification.person_id == person_id, Notification.title_ja == title)
            )
            or 0
        )


async def outbox_rows(db: Database, title: str) -> list[OutboxMessage]:
    async with db.session(Scope.system()) as session:
        rows = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at))
        return [r for r in rows if r.payload["kwargs"].get("title_ja") == title]


def create_message(org_id: uuid.UUID, person_id: uuid.UUID, title: str) -> Message[None]:
    kwargs = {"person_id": str(person_id), "kind": "test", "title_ja": title, "title_en": title}
    return Message(
        queue_name="kyodo",
        actor_name=CREATE,
        args=(),
        kwargs={**kwargs, "link": "", "at": utcnow().isoformat()},
        options={"tenant_id": str(org_id)},
        message_id=str(uuid.uuid4()),
    )


# --- the embedded default (StubBroker + worker in the app process), on SQLite and PostgreSQL ---


async def test_a_rolled_back_change_enqueues_nothing(db, seeded):
    org_id, person_id = await support.org_and_person(db, ORG, PERSON)
    kept, dropped = f"kept {uuid.uuid4()}", f"dropped {uuid.uuid4()}"
    async with running(seeded):
        with pytest.raises(RuntimeError):
            async with db.session(Scope(tenant_id=org_id)) as session:
                notify(session, person_id, "test", dropped, dropped)
                raise RuntimeError("the change failed")
        async with db.session(Scope(tenant_id=org_id)) as session:
            notify(session, person_id, "test", kept, kept)
        await support.eventually(lambda: count_for(db, person_id, kept))
    assert await outbox_rows(db, dropped) == []
    assert await count_for(db, person_id, dropped) == 0


async def test_the_same_message_delivered_twice_has_one_effect(db, seeded):
    org_id, person_id = await support.org_and_person(db, ORG, PERSON)
    async with running(seeded) as (runtime, deliveries):
        assert runtime.broker is not None
        # Two copies at once (as after a redelivery): both run, one notification.
        message = create_message(org_id, person_id, f"twice {uuid.uuid4()}")
        runtime.broker.enqueue(message)
        runtime.broker.enqueue(message)

        async def both_ran() -> bool:
            return deliveries.done[message.message_id] == 2

        await support.eventually(both_ran)
        assert await count_for(db, person_id, message.kwargs["title_ja"]) == 1

        # The relay sends a row again when marking it relayed failed: still one notification.
        title = f"relayed twice {uuid.uuid4()}"
        async with db.session(Scope(tenant_id=org_id)) as session:
            notify(session, person_id, "test", title, title)
        await support.eventually(lambda: count_for(db, person_id, title))
        [row] = await outbox_rows(db, title)
        async with db.session(Scope.system()) as session:
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.id == row.id).values(relayed_at=None)
            )

        async def redelivered() -> bool:
            return deliveries.done[str(row.id)] == 2

        await support.eventually(redelivered)
    assert await count_for(db, person_id, title) == 1


async def test_jobs_relayed_by_a_stopped_embedded_process_run_after_restart(db, seeded):
    org_id, person_id = await support.org_and_person(db, ORG, PERSON)
    title = f"relayed before a restart {uuid.uuid4()}"
    async with db.session(Scope(tenant_id=org_id)) as session:
        notify(session, person_id, "test", title, title)
    [row] = await outbox_rows(db, title)
    async with db.session(Scope.system()) as session:  # sent to a StubBroker that then died
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id == row.id).values(relayed_at=utcnow())
        )
    async with running(seeded):
        await support.eventually(lambda: count_for(db, person_id, title))


async def test_the_runtime_ticks_periodically(seeded):
    ticks: list[datetime] = []

    async def probe(db: Database, now: datetime) -> None:
        ticks.append(now)

    manifests = [Manifest(name="probe", tick=probe)]
    async with running(seeded, manifests=manifests, tick_seconds=0.05):

        async def ticked_twice() -> bool:
            return len(ticks) >= 2

        await support.eventually(ticked_twice)
    assert all(t.tzinfo is not None for t in ticks)


async def test_readyz_counts_the_in_process_worker_as_the_broker(seeded):
    async with AsyncTestClient(app=create_app(seeded)) as client:  # embedded: no Redis
        answer = await client.get("/readyz")
        assert answer.status_code == 200
        assert answer.json()["broker"] == "ok"


# --- the relay on PostgreSQL, in a database of its own so the outbox holds only these rows ---


@pytest.fixture(scope="module")
def empty_pg() -> Iterator[str]:
    name, _owner_url, app_url = support.create_pg_database()
    yield app_url
    support.drop_pg_database(name)


def declare(broker: StubBroker | Any, name: str) -> None:
    Actor(
        lambda **_: None, broker=broker, actor_name=name, queue_name="kyodo", priority=0, options={}
    )


class RecordingBroker(StubBroker):
    """Records what it is sent into a shared list; with a gate, each send first waits for it
    (a broker round trip that takes as long as the test wants)."""

    def __init__(self, sent: list[str], gate: threading.Event | None = None) -> None:
        super().__init__()
        self.sent, self.gate = sent, gate
        self.sending = threading.Event()
        declare(self, "tests.noop")

    def enqueue(self, message: Message[Any], *, delay: int | None = None) -> Message[Any]:
        self.sending.set()
        if self.gate:
            self.gate.wait(timeout=30)
        self.sent.append(message.message_id)
        return message


@pytest.mark.postgres
async def test_concurrent_relays_never_send_a_row_twice(empty_pg):
    first, second = Database(empty_pg), Database(empty_pg)
    sent: list[str] = []
    gate = threading.Event()
    held, free = RecordingBroker(sent, gate), RecordingBroker(sent)
    try:
        async with first.session(Scope.system()) as session:
            for n in range(40):
                enqueue(session, "tests.noop", n=n)
        # The first relay claims 20 rows and is stuck sending the first one...
        stuck = asyncio.create_task(relay_once(first, held, batch=20))

        async def claimed() -> bool:
            return held.sending.is_set()

        await support.eventually(claimed)
        # ...meanwhile a second relay skips the locked rows and sends the other 20.
        other = await asyncio.wait_for(relay_once(second, free, batch=20), timeout=10)
        gate.set()
        assert (await stuck).sent == other.sent == 20
        assert len(sent) == len(set(sent)) == 40
        assert (await relay_once(first, free)).sent == 0
    finally:
        gate.set()
        await first.dispose()
        await second.dispose()


@pytest.mark.postgres
async def test_a_row_stays_pending_while_the_broker_is_unreachable(empty_pg, issuer):
    db = Database(empty_pg)
    closed = f"redis://127.0.0.1:{support.free_port()}/0"
    settings = support.make_settings(empty_pg, issuer, redis_url=closed)
    broker = make_broker(settings, "kyodo-test")
    declare(broker, "tests.down")
    try:
        async with db.session(Scope.system()) as session:
            row = enqueue(session, "tests.down")
        for attempt in (1, 2):
            result = await relay_once(db, broker)
            assert result.sent == 0 and "ConnectionError" in (result.error or "")
            async with db.session(Scope.system()) as session:
                stored = await session.get(OutboxMessage, row.id)
                assert stored is not None and stored.relayed_at is None
                assert stored.attempts == attempt and "ConnectionError" in stored.last_error
        sent: list[str] = []
        up = RecordingBroker(sent)
        declare(up, "tests.down")
        assert (await relay_once(db, up)).sent == 1
        assert sent == [str(row.id)]  # the outbox row id is the dramatiq message id
    finally:
        broker.close()
        await db.dispose()


@pytest.mark.postgres
async def test_a_job_for_an_unknown_actor_does_not_hold_up_the_others(empty_pg):
    db = Database(empty_pg)
    sent: list[str] = []
    broker = RecordingBroker(sent)
    try:
        async with db.session(Scope.system()) as session:
            stuck = enqueue(session, "tests.not_in_this_release")
        async with db.session(Scope.system()) as session:
            fine = enqueue(session, "tests.noop")
        for _ in range(2):
            await relay_once(db, broker, batch=1)
        assert sent == [str(fine.id)]
        async with db.session(Scope.system()) as session:
            row = await session.get(OutboxMessage, stuck.id)
            assert row is not None and row.relayed_at is None
            assert "tests.not_in_this_release" in (row.last_error or "")
    finally:
        await db.dispose()


# --- Redis: the production broker and `kyodo worker` (PostgreSQL, the production database) ---


@pytest.fixture
def namespace() -> Iterator[str]:
    """A key namespace of our own on the shared Redis (DB 15), removed afterwards."""
    name = f"kyodo-test-{uuid.uuid4().hex[:8]}"
    yield name
    client = redis.Redis.from_url(support.REDIS_URL)
    keys = list(client.scan_iter(f"{name}:*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.mark.redis
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_redis_broker_runs_jobs_once(db, seeded, namespace):
    org_id, person_id = await support.org_and_person(db, ORG, PERSON)
    settings = dataclasses.replace(seeded, redis_url=support.REDIS_URL)
    async with running(settings, namespace=namespace) as (runtime, deliveries):
        assert runtime.broker is not None
        title = f"via redis {uuid.uuid4()}"
        async with db.session(Scope(tenant_id=org_id)) as session:
            notify(session, person_id, "test", title, title)
        await support.eventually(lambda: count_for(db, person_id, title))

        message = create_message(org_id, person_id, f"twice via redis {uuid.uuid4()}")
        runtime.broker.enqueue(message)
        runtime.broker.enqueue(message)

        async def both_ran() -> bool:
            return deliveries.done[message.message_id] == 2

        await support.eventually(both_ran)
        assert await count_for(db, person_id, message.kwargs["title_ja"]) == 1


def start_worker(database_url: str, redis_url: str | None, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KYODO_")}
    env.update(KYODO_ENV="test", KYODO_DATABASE_URL=database_url)
    if redis_url:
        env["KYODO_REDIS_URL"] = redis_url
    with log.open("wb") as out:
        return subprocess.Popen([KYODO, "worker"], env=env, stdout=out, stderr=subprocess.STDOUT)


@pytest.mark.redis
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_redis_down_during_a_request_the_change_commits_and_the_job_runs_later(
    db, seeded, tmp_path
):
    org_id, person_id = await support.org_and_person(db, ORG, PERSON)
    _, admin_id = await support.org_and_person(db, ORG, "admin@131016.example")
    port = support.free_port()  # Redis will listen here, but not yet
    log = tmp_path / "worker.log"
    worker = start_worker(seeded.database_url, f"redis://127.0.0.1:{port}/0", log)
    try:
        title = f"while redis was down {uuid.uuid4()}"
        # What a request does: change something and queue a job, in one transaction.
        async with db.session(Scope(tenant_id=org_id, person_id=admin_id)) as session:
            event = await audit.record(session, "test.changed", "thing", "1", "Redis is down")
            notify(session, person_id, "test", title, title)
        async with db.session(Scope(tenant_id=org_id)) as session:  # the change committed
            assert await session.scalar(select(AuditEvent.id).where(AuditEvent.id == event.id))

        async def relay_failed() -> OutboxMessage | None:
            rows = await outbox_rows(db, title)
            return rows[0] if rows and rows[0].attempts >= 1 else None

        row = await support.eventually(relay_failed)
        assert row.relayed_at is None and row.last_error
        assert await count_for(db, person_id, title) == 0

        with support.redis_server(port):
            await support.eventually(lambda: count_for(db, person_id, title), seconds=20)
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=20) == 0, log.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    [row] = await outbox_rows(db, title)
    assert row.relayed_at is not None


def test_worker_refuses_to_start_without_redis(tmp_path):
    log = tmp_path / "worker.log"
    worker = start_worker("sqlite:///" + str(tmp_path / "none.sqlite3"), None, log)
    assert worker.wait(timeout=30) != 0
    assert "KYODO_REDIS_URL" in log.read_text()
