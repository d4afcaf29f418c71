"""Where jobs run: dramatiq on Redis in production, a stub broker inside the process in dev."""

from __future__ import annotations

from kyodo.settings import Settings


class JobsRuntime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def ping(self) -> bool:
        if not self.settings.redis_url:
            return True
        import redis.asyncio as redis

        client = redis.from_url(self.settings.redis_url, socket_connect_timeout=1)
        try:
            return bool(await client.ping())
        except redis.RedisError:
            return False
        finally:
            await client.aclose()
