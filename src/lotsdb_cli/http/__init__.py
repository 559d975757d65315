"""The one HTTP layer: cache, retries, rate limits, auth and clean failures."""
