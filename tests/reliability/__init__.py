"""Fault and abuse suite: the real CLI, as subprocesses, against a misbehaving sandbox."""
