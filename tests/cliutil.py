"""Calling the `incidents` command line in process, as a user would: its exit code, stdout and stderr."""

from __future__ import annotations

import pytest


def cli(capsys, *args):
    """Run `incidents ARGS...` through the real entry point (the job's verbs included); (code, out, err)."""
    from pipelines.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(list(args))
    out, err = capsys.readouterr()
    return exit_.value.code, out, err
