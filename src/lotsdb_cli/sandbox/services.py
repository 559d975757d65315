"""Names of the services the sandbox stands in for; each route belongs to one."""

CATALOG = "catalog"  # Catalog API, /api/...
SPOTIFY = "spotify"  # Spotify Web API, /v1/...
IDENTITY = "identity"  # ABConnect identity server, /connect/token
SPOTIFY_ACCOUNTS = "spotify-accounts"  # Spotify accounts service, /api/token
IMAGES = "images"  # album covers
CONTROL = "control"  # /_sandbox/...: no auth, latency, limits, faults or counting
OTHER = "other"

OAUTH_SERVICES = frozenset({IDENTITY, SPOTIFY_ACCOUNTS})
RATE_LIMITED = frozenset({CATALOG, SPOTIFY})
FAILING = frozenset({CATALOG, SPOTIFY})
