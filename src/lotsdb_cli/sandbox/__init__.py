"""A local stand-in for the Catalog API, its identity server and the Spotify Web API."""
