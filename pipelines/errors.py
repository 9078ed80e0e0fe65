"""Errors that end a run with a one-line message (exit code 2 for user errors)."""


class GristError(Exception):
    """A failure the user can fix; the CLI prints it as one line."""

    exit_code = 1


class ConfigError(GristError):
    """A bad config key, value or path. Raised before any work starts."""

    exit_code = 2
