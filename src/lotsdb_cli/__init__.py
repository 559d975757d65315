"""lotsdb: auction-catalog exports and a Spotify-enriched album catalog behind one HTTP cache."""

__version__ = "0.1.0"
