"""The one kind of error a user can fix without reading code: a missing or unreadable file, a
checkpoint of the wrong kind, an output path that cannot be written, a setting out of range.
Command lines print it as one line; anything else is a bug and keeps its traceback."""


class InputError(ValueError):
    """Bad input, named in the message (a ValueError, so callers that catch those still do)."""
