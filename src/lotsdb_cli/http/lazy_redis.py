"""Import requests-cache's Redis backend only when a Redis cache is used.

On import, requests-cache imports every backend whose dependencies are installed, and `redis`
(with its asyncio client) takes about 70 ms to import: a sixth of a warm `lots dump`, paid by
every run that uses the default SQLite cache. `defer_redis_backend()` puts a stand-in module in
its place before requests-cache is first imported. The stand-in's `RedisCache`, `RedisDict` and
`RedisHashDict` import the real module on first use and return its objects, and any other name
is looked up in the real module, so code that uses a Redis cache works as before.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

MODULE = "requests_cache.backends.redis"
CLASSES = ("RedisCache", "RedisDict", "RedisHashDict")


def defer_redis_backend() -> None:
    """Stand in for requests-cache's Redis backend until it is used (no-op once requests-cache is imported)."""
    if "requests_cache" in sys.modules or MODULE in sys.modules:
        return
    if importlib.util.find_spec("redis") is None:
        return  # requests-cache will skip the backend anyway
    stub = types.ModuleType(MODULE, __doc__)

    def real() -> types.ModuleType:
        if sys.modules.get(MODULE) is stub:
            del sys.modules[MODULE]
        return importlib.import_module(MODULE)

    def stand_in(name: str) -> type:
        def __new__(cls: type, *args: Any, **kwargs: Any) -> Any:
            return getattr(real(), name)(*args, **kwargs)

        return type(name, (), {"__new__": __new__, "__module__": MODULE, "__doc__": f"Lazy {name}."})

    for name in CLASSES:
        setattr(stub, name, stand_in(name))

    def __getattr__(name: str) -> Any:
        if name.startswith("__"):  # the import machinery probing (__path__ ...): not a reason to load
            raise AttributeError(name)
        return getattr(real(), name)

    stub.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules[MODULE] = stub
