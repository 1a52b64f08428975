"""forensics: postmortems of Linux service incidents from their logs."""

__version__ = "0.1.0"


class ForensicsError(Exception):
    """An error the user can fix; the command line prints it as one line and exits 1."""
