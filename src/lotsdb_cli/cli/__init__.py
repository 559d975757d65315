"""The command-line layer: parses options, calls the library, renders results."""
