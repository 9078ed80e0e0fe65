"""Errors that end a run with a one-line message (exit code 2 for user errors)."""


class GristError(Exception):
    """A failure the user can fix; the CLI prints it as one line."""

    exit_code = 1


class ConfigError(GristError):
    """A bad config key, value or path. Raised before any work starts."""

    exit_code = 2


def find_cause(err: BaseException, errno_: int) -> BaseException | None:
    """The first exception in `err`'s chain (causes, contexts, and Ray's wrapped `.cause`) that is
    an OSError with this errno, or that Ray flattened into a message holding `[Errno N]`."""
    seen: set[int] = set()
    todo: list[BaseException] = [err]
    while todo:
        e = todo.pop(0)
        if id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, OSError) and e.errno == errno_:
            return e
        if f"[Errno {errno_}]" in str(e) or f"[errno {errno_}]" in str(e):
            return e
        for nxt in (getattr(e, "cause", None), e.__cause__, e.__context__):
            if isinstance(nxt, BaseException):
                todo.append(nxt)
    return None


def disk_full(err: BaseException, fallback: str) -> GristError | None:
    """A one-line error for a full disk anywhere in `err`'s chain (None if it is something else);
    it names the file when the error does, else `fallback` (the output folder)."""
    import errno
    import re

    cause = find_cause(err, errno.ENOSPC)
    if cause is None:
        return None
    path = getattr(cause, "filename", None) if isinstance(cause, OSError) else None
    if not path:
        m = re.search(r"No space left on device: '([^']+)'", str(cause))
        path = m.group(1) if m else fallback
    return GristError(f"{path}: no space left on device; free some space and rerun the same command to resume")
