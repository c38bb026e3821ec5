"""``airflow webhook-trigger ...``: the same subcommands inside Airflow's own CLI, and this
package's provider info.

How: Airflow 3.2+'s CLI loads extra command groups from installed providers (the ``cli`` list of
a provider's ``get_provider_info``, read through the ``apache_airflow_provider`` entry point;
see ``airflow/cli/cli_parser.py``). Plugins cannot add CLI commands, so this package also
registers itself as a (small) provider: ``get_provider_info`` below. Older Airflow releases
without that hook still have the ``airflow-webhooks`` console script, which is the same code.

The group is ``webhook-trigger``, not ``webhooks``: ``airflow-provider-inbound-webhooks``
registers ``webhooks``, and two groups of one name make every ``airflow`` command fail
(``CliConflictError``), so the name follows this package's own.

The same provider info carries ``config``: the ``[webhook_trigger]`` options (``config.OPTIONS``)
in the schema of Airflow's ``config.yml``, so ``airflow config get-value/list`` know them
(Airflow 2.7+ and 3.x read a provider's ``config``).
"""

from __future__ import annotations

import argparse

__all__ = ["get_provider_info", "get_cli_commands"]


GROUP = "webhook-trigger"


def get_provider_info() -> dict:
    from airflow_webhook_trigger import __version__  # on use: every `airflow` command reads provider info
    from airflow_webhook_trigger.config import provider_config  # as above

    return {
        "package-name": "airflow-webhook-trigger",
        "name": "Webhook trigger",
        "description": "Kestra's Webhook trigger for Airflow: any service starts a DAG by calling its "
                       "webhook URL (the plugin of this package; this provider entry adds the "
                       "`airflow webhook-trigger` commands and the webhook_trigger config section).",
        "versions": [__version__],
        "cli": ["airflow_webhook_trigger.cli.airflow_group.get_cli_commands"],
        "config": provider_config(),
    }


def _runner(name: str):
    def command(args: argparse.Namespace) -> None:
        from airflow_webhook_trigger.cli.commands import COMMANDS, run  # on use: only our own group loads it

        code = run(COMMANDS[name][0], args)
        if code:
            raise SystemExit(code)

    command.__name__ = f"webhook_trigger_{name}"
    return command


def get_cli_commands() -> list:
    """The ``webhook-trigger`` command group, built from ``cli.COMMANDS`` (one table for both CLIs)."""
    from airflow.cli.cli_config import ActionCommand, Arg, GroupCommand  # Airflow's CLI asks for this

    from airflow_webhook_trigger.cli.commands import COMMANDS, _with_choices  # on use, as above

    subcommands = [
        ActionCommand(name=name, help=help_text, func=_runner(name),
                      args=tuple(Arg(flags, **_with_choices(kwargs)) for flags, kwargs in arguments))
        for name, (_, help_text, arguments) in COMMANDS.items()
    ]
    return [GroupCommand(name=GROUP, help="Kestra-style webhooks: list, url, test (dry run), send",
                         subcommands=subcommands)]
