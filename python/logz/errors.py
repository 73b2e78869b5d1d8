"""The exceptions of logz.

Every failure the library reports carries a sysexits code (the CLI's exit status) and the
message the CLI prints, with configuration fields named as Python keywords. Each code has
a class that is also the built-in exception a Python user expects:

====================  ====  ==================  =========================================
class                 code  also a              when
====================  ====  ==================  =========================================
UsageError            64    ValueError          a bad argument or option
DataError             65    ValueError          malformed data or a model file that
                                                cannot be used
InputError            66    FileNotFoundError   an input file that is missing or unreadable
UnavailableError      69    MemoryError         a resource (memory) is not available
InternalError         70    RuntimeError        a bug in logz: please report it
OutputError           73/74 OSError             an output that cannot be written
UnreliableError       75    RuntimeError        strict=True and the verdict does not trust
                                                the estimate
====================  ====  ==================  =========================================
"""


class LogzError(Exception):
    """Base class of every logz error; ``code`` is the CLI's exit status for it."""

    code = 1


class UsageError(LogzError, ValueError):
    code = 64


class DataError(LogzError, ValueError):
    code = 65


class InputError(LogzError, FileNotFoundError):
    code = 66


class UnavailableError(LogzError, MemoryError):
    code = 69


class InternalError(LogzError, RuntimeError):
    code = 70


class OutputError(LogzError, OSError):
    code = 73


class UnreliableError(LogzError, RuntimeError):
    code = 75


_BY_CODE = {64: UsageError, 65: DataError, 66: InputError, 69: UnavailableError, 70: InternalError,
            73: OutputError, 74: OutputError, 75: UnreliableError}


def error_class(code):
    """The class of an error with this sysexits code (InternalError for unknown codes)."""
    return _BY_CODE.get(int(code), InternalError)
