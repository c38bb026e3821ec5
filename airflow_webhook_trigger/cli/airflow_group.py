"""``airflow webhooks ...``: the same subcommands inside Airflow's own CLI.

How: Airflow 3.3's CLI loads extra command groups from installed providers (the ``cli`` list of
a provider's ``get_provider_info``, read through the ``apache_airflow_provider`` entry point;
see ``airflow/cli/cli_parser.py``). Plugins cannot add CLI commands, so this package also
registers itself as a (small) provider: ``get_provider_info`` below. Older Airflow releases
without that hook still have the ``airflow-webhooks`` console script, which is the same code.
"""

from __future__ import annotations

import argparse

__all__ = ["get_provider_info", "get_cli_commands"]


def get_provider_info() -> dict:
    from airflow_webhook_trigger import __version__  # on use: every `airflow` command reads provider info

    return {
        "package-name": "airflow-webhook-trigger",
        "name": "Webhook trigger",
        "description": "Kestra's Webhook trigger for Airflow: any service starts a DAG by calling its "
                       "webhook URL (the plugin of this package; this provider entry adds `airflow webhooks`).",
        "versions": [__version__],
        "cli": ["airflow_webhook_trigger.cli.airflow_group.get_cli_commands"],
    }


def _runner(name: str):
    def command(args: argparse.Namespace) -> None:
        from airflow_webhook_trigger.cli.commands import COMMANDS, run  # on use: only our own group loads it

        code = run(COMMANDS[name][0], args)
        if code:
            raise SystemExit(code)

    command.__name__ = f"webhooks_{name}"
    return command


def get_cli_commands() -> list:
    """The ``webhooks`` command group, built from ``cli.COMMANDS`` (one table for both CLIs)."""
    from airflow.cli.cli_config import ActionCommand, Arg, GroupCommand  # Airflow's CLI asks for this

    from airflow_webhook_trigger.cli.commands import COMMANDS, _with_choices  # on use, as above

    subcommands = [
        ActionCommand(name=name, help=help_text, func=_runner(name),
                      args=tuple(Arg(flags, **_with_choices(kwargs)) for flags, kwargs in arguments))
        for name, (_, help_text, arguments) in COMMANDS.items()
    ]
    return [GroupCommand(name="webhooks", help="Kestra-style webhooks: list, url, test (dry run), send",
                         subcommands=subcommands)]
