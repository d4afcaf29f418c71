"""`kyodo worker`: relay the outbox to Redis, run the actors, and tick every 30 seconds.

Nothing is lost when a worker dies: dramatiq's Redis broker keeps each fetched message in this
worker's acknowledgement set and removes it only after the actor returned (ack after
processing). When a worker stops sending heartbeats for longer than the broker's
heartbeat_timeout (60 s), another worker's broker puts its unacknowledged messages back on the
queue, and the idempotent actors make the repeat harmless. Jobs not yet relayed simply wait in
the outbox. Several workers may run at once: the relay claims rows with SKIP LOCKED.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from kyodo.jobs.runtime import JobsRuntime
from kyodo.settings import Settings

log = logging.getLogger(__name__)


def run_worker(settings: Settings) -> None:
    if not settings.redis_url:
        raise SystemExit(
            "configuration error: KYODO_REDIS_URL is required for `kyodo worker` "
            "(without it, `kyodo dev` runs jobs inside the web process)"
        )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(_serve(JobsRuntime(settings, consume=True)))


async def _serve(runtime: JobsRuntime) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await runtime.start()
    log.info("kyodo worker running")
    try:
        await stop.wait()
    finally:
        log.info("kyodo worker stopping")
        await runtime.stop()
