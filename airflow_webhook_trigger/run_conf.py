"""The run's conf: what a webhook run receives from its request.

Kestra's shape (body, headers, parameters, plus form fields and parts when the body had them),
with credentials replaced: anyone who can read the DAG's runs sees the conf.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_webhook_trigger import config

__all__ = ["SENSITIVE_HEADERS", "run_conf"]

# Credentials a sender (or a proxy, or Airflow's own all-admins dev mode) puts in headers. Conditions
# still see them; the run's conf, which anyone who can read the DAG's runs sees, gets "***".
SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-gitlab-token", "x-api-key"})


def run_conf(variables: Mapping[str, Any]) -> dict[str, Any]:
    """The run's conf: body, lower-cased headers and parameters, plus form data when present.

    Headers in ``SENSITIVE_HEADERS`` or ``[webhook_trigger] masked_headers``, and parameters in
    ``masked_parameters`` (names in any case), are ``["***"]``.
    """
    masked_headers = SENSITIVE_HEADERS | config.get_names("masked_headers")
    headers = {name: ["***"] if name in masked_headers else values for name, values in variables["headers"].items()}
    masked_parameters = config.get_names("masked_parameters")
    parameters = variables["parameters"]
    if masked_parameters:
        parameters = {name: ["***"] if name.lower() in masked_parameters else values for name, values in parameters.items()}
    conf = {
        "body": variables["body"],
        "headers": headers,
        "parameters": parameters,
    }
    for optional in ("formFields", "parts", "uri"):
        if optional in variables:
            conf[optional] = variables[optional]
    return conf
