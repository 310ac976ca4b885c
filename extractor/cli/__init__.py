"""`incidents`: a thin command-line layer over the library. No extraction logic lives here.

Each module below registers its verbs on the shared Typer ``app``.
"""

from __future__ import annotations

import sys

import click

from ..errors import ExtractorError
from .app import app

try:  # Typer >= 0.2x vendors its own copy of click: its exceptions are not click's
    from typer._click.exceptions import ClickException as _TyperClickException, NoArgsIsHelpError as _TyperNoArgs
except ImportError:  # pragma: no cover - older Typer runs on click itself
    _TyperClickException, _TyperNoArgs = click.ClickException, click.exceptions.NoArgsIsHelpError
import typer

# Command modules: importing one registers its verbs.
from . import extract_cmd  # noqa: E402,F401  extract, schema
from . import store_cmds  # noqa: E402,F401  ingest, export, status
from . import eval_cmd  # noqa: E402,F401  eval
from . import incident_cmds  # noqa: E402,F401  import, show, merge, split, rematch
from . import backfill_cmd  # noqa: E402,F401  backfill
from . import serve_cmd, feed_cmd, alert_cmds  # noqa: E402,F401  serve, feed, alert (docs/VIEW.md)


def _terminate_as_interrupt() -> None:
    """SIGTERM unwinds like Ctrl-C, so partial outputs are removed on the way out
    (`ingest --every` installs its own handler: it finishes the current item first)."""
    import signal

    def _raise(signum, frame):
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGTERM, _raise)
    except ValueError:  # not the main thread (embedded use): leave signals alone
        pass


def main(argv: list[str] | None = None) -> None:
    """Entry point: every error a user can cause ends as one line on stderr and an exit code."""
    _terminate_as_interrupt()
    try:
        from .. import settings

        settings.all_settings()  # a bad $INCIDENTS_SETTINGS fails here, in one line, whatever the verb
        rv = app(args=argv, standalone_mode=False)
    except ExtractorError as err:
        print(f"incidents: error: {err}", file=sys.stderr)
        sys.exit(err.exit_code)
    except (click.exceptions.Abort, typer.Abort):
        print("incidents: interrupted", file=sys.stderr)
        sys.exit(130)
    except (click.exceptions.NoArgsIsHelpError, _TyperNoArgs) as err:
        ctx = getattr(err, "ctx", None)
        if ctx is not None:  # the plain formatter leaves the help to the caller: on standard output
            print(ctx.get_help())
        sys.exit(2)
    except (click.ClickException, _TyperClickException) as err:
        message = " ".join(str(err.format_message()).split()) or type(err).__name__
        print(f"incidents: error: {message}", file=sys.stderr)
        sys.exit(err.exit_code)
    except (click.exceptions.Exit, typer.Exit) as err:
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        print("incidents: interrupted", file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as err:  # the last line of defence: never a traceback
        print(f"incidents: internal error: {type(err).__name__}: {err}", file=sys.stderr)
        sys.exit(1)
    if rv == 130:  # Typer turns Ctrl-C into a silent exit code 130 when not standalone
        print("incidents: interrupted", file=sys.stderr)
    sys.exit(rv if isinstance(rv, int) else 0)
