"""The command line: ``airflow-webhooks`` (console script) and ``airflow webhook-trigger`` (in Airflow's CLI).

``commands.py`` holds the subcommands (list, url, test, send) and the parser; ``airflow_group.py``
registers them as Airflow's ``webhook-trigger`` group; ``dry_run.py`` is what ``test`` evaluates,
``sending.py`` and ``samples.py`` what ``send`` signs and sends, ``support.py`` the shared
helpers (the index of this environment, output). Nothing here is imported by the api-server's
request path: ``main`` imports the commands only when the command line runs.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """The ``airflow-webhooks`` console script."""
    # on use: Airflow imports this package for the provider info on every `airflow` command
    from airflow_webhook_trigger.cli.commands import main as run_main

    return run_main(argv)
