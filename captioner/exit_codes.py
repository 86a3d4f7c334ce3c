"""Exit statuses of the ``captioner`` command (DESIGN.md §3), shared by the CLI, the app and the self-test."""

EXIT_OK = 0
"""The source ended normally, or the user stopped it."""
EXIT_ERROR = 1
"""Anything else: gave up reconnecting, an internal error, a failed self-test."""
EXIT_USAGE = 2
"""Bad usage or bad input: unknown engine, unreadable file, missing key, no display."""
EXIT_REFUSED = 3
"""The engine refused (e.g. a rejected API key)."""
