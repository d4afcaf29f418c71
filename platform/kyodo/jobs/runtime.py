"""Where jobs run.

* Embedded default (no KYODO_REDIS_URL: `kyodo dev`, tests): a dramatiq StubBroker and Worker
  inside the app process, fed by the outbox relay, and the periodic tick.
* Production web (`kyodo serve` with Redis): nothing runs here, requests only write the outbox;
  `ping()` checks Redis for /readyz.
* Production worker (`kyodo worker`): RedisBroker, Worker, relay and tick (see worker.py).

Actor coroutines, the relay and the tick run on this runtime's own event-loop thread with their
own Database, never on the web server's loop. dramatiq's AsyncIO middleware would keep that
thread in a process-wide global, and two runtimes in one process (tests run several apps at
once) would stop each other's loop; so actors are declared as plain functions that hand their
coroutine to this runtime's EventLoopThread (dramatiq's class, including its handling of
time-limit interrupts).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib
import logging
import uuid
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

import redis
import redis.asyncio
from dramatiq import Actor, Broker, Worker
from dramatiq.asyncio import EventLoopThread
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import CurrentMessage, default_middleware

from kyodo.db import Database, utcnow
from kyodo.jobs.actors import ACTORS, ActorSpec, perform
from kyodo.jobs.relay import BATCH, relay_once, requeue_unprocessed
from kyodo.jobs.tick import tick
from kyodo.manifest import Manifest, load_manifests
from kyodo.settings import Settings

log = logging.getLogger(__name__)

KERNEL_ACTOR_MODULES = ("kyodo.notifications",)
RELAY_SECONDS = 0.5
MAX_RELAY_BACKOFF_SECONDS = 5.0
T = TypeVar("T")


def import_actor_modules(manifests: Sequence[Manifest]) -> None:
    """Importing a module registers its actors (see actors.actor)."""
    for name in (*KERNEL_ACTOR_MODULES, *(m for mf in manifests for m in mf.actor_modules)):
        importlib.import_module(name)


def make_broker(settings: Settings, namespace: str) -> Broker:
    middleware = [m() for m in default_middleware] + [CurrentMessage()]
    if settings.redis_url:
        # Timeouts so an unreachable Redis fails a relay pass instead of hanging it.
        client = redis.Redis.from_url(
            settings.redis_url, socket_connect_timeout=5, socket_timeout=30
        )
        return RedisBroker(client=client, namespace=namespace, middleware=middleware)
    # Failed jobs are retried and logged; they must not surface as errors in unrelated code.
    return StubBroker(middleware=middleware, fail_fast_default=False)


class JobsRuntime:
    def __init__(
        self,
        settings: Settings,
        manifests: Sequence[Manifest] | None = None,
        *,
        consume: bool | None = None,
        namespace: str = "kyodo",
        worker_threads: int | None = None,
        relay_seconds: float = RELAY_SECONDS,
        tick_seconds: float | None = None,
    ) -> None:
        self.settings = settings
        self.manifests = manifests
        self.embedded = settings.redis_url is None
        # Without Redis there is no other process to run jobs, so this one does.
        self.consume = self.embedded if consume is None else consume
        self.namespace = namespace
        self.worker_threads = worker_threads or (2 if self.embedded else 8)
        self.relay_seconds = relay_seconds
        self.tick_seconds = settings.tick_seconds if tick_seconds is None else tick_seconds
        self.broker: Broker | None = None
        self._loop: EventLoopThread | None = None
        self._db: Database | None = None
        self._worker: Worker | None = None
        self._stopping = asyncio.Event()
        self._background: list[concurrent.futures.Future[None]] = []

    async def start(self) -> None:
        if not self.consume:
            return
        import_actor_modules(load_manifests() if self.manifests is None else self.manifests)
        broker = self.broker = make_broker(self.settings, self.namespace)
        for spec in ACTORS.values():
            Actor(
                self._performer(spec),
                broker=broker,
                actor_name=spec.name,
                queue_name=spec.queue,
                priority=0,
                options={"max_retries": spec.max_retries},
            )
        self._loop = EventLoopThread(log)
        self._loop.daemon = True  # never keep a process alive on its own
        self._loop.start(timeout=5)
        self._db = Database(self.settings.database_url)
        # A short consumer timeout lets the embedded worker stop quickly with the app.
        self._worker = Worker(
            broker,
            worker_threads=self.worker_threads,
            worker_timeout=100 if self.embedded else 1000,
        )
        self._worker.start()
        self._stopping = asyncio.Event()
        self._background = [self._submit(self._relay_loop())]
        if self.tick_seconds > 0:
            self._background.append(self._submit(self._tick_loop()))

    async def stop(self) -> None:
        if self._loop is None:
            return
        loop = self._loop.loop
        loop.call_soon_threadsafe(self._stopping.set)
        for future in self._background:
            await asyncio.wrap_future(future)
        if self._worker:
            await asyncio.to_thread(self._worker.stop, 10_000)
        if self._db:
            await self._call(self._db.dispose())
        self._loop.stop()
        if self.broker:
            self.broker.close()
        self._loop = self._db = self._worker = self.broker = None
        self._background = []

    async def ping(self) -> bool:
        """Whether jobs can run: Redis answers, or the in-process worker is up."""
        if not self.settings.redis_url:
            return self._worker is not None
        client = redis.asyncio.from_url(self.settings.redis_url, socket_connect_timeout=1)
        try:
            return bool(await client.ping())
        except redis.RedisError:
            return False
        finally:
            await client.aclose()

    def _performer(self, spec: ActorSpec) -> Callable[..., None]:
        """The function dramatiq's worker thread calls: runs the job on our loop and waits."""

        def run(**kwargs: Any) -> None:
            message = CurrentMessage.get_current_message()
            assert message is not None and self._loop is not None and self._db is not None
            tenant = message.options.get("tenant_id")
            self._loop.run_coroutine(
                perform(
                    self._db,
                    self.settings,
                    spec,
                    uuid.UUID(message.message_id),
                    uuid.UUID(tenant) if tenant else None,
                    kwargs,
                )
            )

        run.__qualname__ = run.__name__ = spec.name
        return run

    def _submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop.loop)

    async def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        return await asyncio.wrap_future(self._submit(coro))

    async def _stopped_after(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        except TimeoutError:
            return False
        return True

    async def _relay_loop(self) -> None:
        assert self._db is not None and self.broker is not None
        delay = self.relay_seconds
        recovered = not self.embedded
        while True:
            try:
                if not recovered:
                    await requeue_unprocessed(self._db)
                    recovered = True
                result = await relay_once(self._db, self.broker)
            except Exception:  # the database is unreachable; keep trying
                log.exception("outbox relay failed")
                result = None
            if result is None or result.error:
                # Back off while the broker or database is down, but not for long.
                delay = min(max(delay, self.relay_seconds) * 2, MAX_RELAY_BACKOFF_SECONDS)
                if result:
                    log.warning("broker unavailable, jobs stay in the outbox: %s", result.error)
            else:
                delay = 0 if result.sent == BATCH else self.relay_seconds
            if await self._stopped_after(delay):
                return

    async def _tick_loop(self) -> None:
        assert self._db is not None
        while not await self._stopped_after(self.tick_seconds):
            try:
                await tick(self._db, utcnow(), self.manifests)
            except Exception:  # one failing module must not stop the next tick
                log.exception("periodic tick failed")
