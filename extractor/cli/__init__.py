"""`incidents`: a thin command-line layer over the library. No extraction logic lives here.

Each module below registers its verbs on the shared Typer ``app``. Verbs of packages built on the library
(the scheduled job's ``ingest``, in pipelines/cli.py) register themselves from their side, found through the
``incidents.commands`` entry point group: the library never imports them.
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
from . import store_cmds  # noqa: E402,F401  status (ingest: pipelines/cli.py)
from . import prune_cmd  # noqa: E402,F401  prune
from . import export_cmd  # noqa: E402,F401  export
from . import eval_cmd  # noqa: E402,F401  eval
from . import incident_cmds  # noqa: E402,F401  import, show, merge, split, rematch
from . import list_cmd  # noqa: E402,F401  list
from . import backfill_cmd  # noqa: E402,F401  backfill
from . import serve_cmd, feed_cmd, alert_cmds  # noqa: E402,F401  serve, feed, alert (docs/VIEW.md)


PLUGIN_GROUP = "incidents.commands"
JOB_VERBS = ("ingest",)  # registered by the job package (pipelines), when it is installed


def load_command_plugins() -> None:
    """Let installed packages add their verbs: each entry point of PLUGIN_GROUP is a ``register(app)``."""
    from importlib.metadata import entry_points

    for ep in entry_points(group=PLUGIN_GROUP):
        try:
            register = ep.load()
        except ModuleNotFoundError as err:  # the package itself is absent here; any other broken import fails
            if err.name != ep.module.split(".")[0]:
                raise
            continue
        register(app)


def _verb(argv: list[str]):
    return next((a for a in argv if not a.startswith("-")), None)


def _library_verbs() -> set:
    """The verbs this package registers itself (a command's name defaults to its function's, as in Typer)."""
    names = {c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands}
    return names | {g.name for g in app.registered_groups if g.name}


def _check_job_verb(argv: list[str]) -> None:
    verb = _verb(argv)
    if verb in JOB_VERBS and not any(c.name == verb for c in app.registered_commands):
        raise click.UsageError(f"`{verb}` is the scheduled job's verb: it needs the job package (pipelines), "
                               f"installed with incidents-extractor")


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
        args = sys.argv[1:] if argv is None else list(argv)
        if _verb(args) not in _library_verbs():  # a library verb needs no plugin (importing one costs ~0.3 s)
            load_command_plugins()
        _check_job_verb(args)
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
