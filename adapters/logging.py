"""Structured logs: JSON lines in production, readable in a terminal. Context (request id, case
id, organisation, actor) travels in contextvars. Personal data never goes into a log: callers log
ids and codes only, and query strings are never logged (they may hold names).

Several processes (``staffel serve --workers N``) share one stderr, so every record leaves in ONE
``write()`` of one whole line (``LineLogger``): a line shorter than ``PIPE_BUF`` (4 KiB) is
never interleaved with another process's on a pipe, nor on a file opened for appending. Python's
``print`` writes the text and its newline in two calls, and two workers' records then shared a
line. Every record names its process (``pid``). uvicorn's own loggers go through the same
renderer and writer (``LineHandler``); its access log stays off (it would log query strings, and
``api.app.RequestContext`` logs each request already)."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog
import structlog.tracebacks

_lock = threading.Lock()  # one record at a time from the threads of this process


def write_line(file: TextIO, line: str) -> None:
    """``line`` and its newline in one ``write()`` to ``file``'s descriptor (bypassing Python's
    buffers); to ``file`` itself when it has none (a test's captured stream)."""
    data = (line + "\n").encode("utf-8", "backslashreplace")
    try:
        fd = file.fileno()
    except (AttributeError, OSError, ValueError):
        with _lock:
            file.write(line + "\n")
            file.flush()
        return
    with _lock:
        file.flush()  # anything ``print``ed before goes first
        while data:  # one call unless the line is larger than the pipe takes at once
            data = data[os.write(fd, data) :]


class LineLogger:
    """A structlog logger that writes each rendered record as one line (``write_line``)."""

    def __init__(self, file: TextIO) -> None:
        self._file = file

    def msg(self, message: str) -> None:
        write_line(self._file, message)

    log = debug = info = warn = warning = msg
    fatal = failure = err = error = critical = exception = msg


class LineLoggerFactory:
    def __init__(self, file: TextIO) -> None:
        self._file = file

    def __call__(self, *args: Any) -> LineLogger:
        return LineLogger(self._file)


class LineHandler(logging.Handler):
    """Standard-library records (uvicorn's) rendered by structlog, written like structlog's."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            write_line(sys.stderr, self.format(record))
        except Exception:
            self.handleError(record)


def add_pid(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    event_dict["pid"] = os.getpid()
    return event_dict


def configure_logging(fmt: str = "auto", level: str = "INFO") -> None:
    json_lines = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    # tracebacks without the frames' local variables: they hold request bodies and case data
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if json_lines
        else structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback)
    )
    exceptions: structlog.types.Processor = (
        structlog.processors.ExceptionRenderer(
            structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
        )
        if json_lines
        else structlog.dev.set_exc_info
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_pid,
    ]
    structlog.configure(
        processors=[*shared, exceptions, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=LineLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )
    _route_uvicorn(shared, exceptions, renderer, level)


def _route_uvicorn(
    shared: list[structlog.types.Processor],
    exceptions: structlog.types.Processor,
    renderer: structlog.types.Processor,
    level: str,
) -> None:
    """uvicorn's loggers (and any library's warnings) through the same renderer and writer."""
    handler = LineHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[
                *shared,
                structlog.stdlib.add_logger_name,
                structlog.stdlib.ExtraAdder(allow=()),
            ],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                exceptions,
                renderer,
            ],
        )
    )
    for name, at in (("uvicorn", level), ("", "WARNING")):
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if isinstance(h, LineHandler)]:
            logger.removeHandler(old)
        logger.addHandler(handler)
        logger.setLevel(at)
    logging.getLogger("uvicorn").propagate = False
    logging.captureWarnings(True)  # a library's warning is a record too, not a bare stderr line
    logging.getLogger("uvicorn.access").setLevel("WARNING")  # query strings: never logged


def log_uncaught() -> None:
    """An exception nobody caught, in the main thread or another, as one record (not Python's
    traceback text on stderr, line by line between the other workers' records)."""
    log = structlog.get_logger("staffel.uncaught")

    def in_main(kind: type[BaseException], error: BaseException, tb: Any) -> None:
        log.error("uncaught_exception", exc_info=(kind, error, tb))

    def in_thread(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        exc_info = (args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback)
        thread = args.thread.name if args.thread else None
        log.error("uncaught_exception", thread=thread, exc_info=exc_info)

    sys.excepthook = in_main
    threading.excepthook = in_thread
