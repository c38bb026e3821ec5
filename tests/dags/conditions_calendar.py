"""Calendar conditions on a real api-server (the test computes the expected answers)."""

from __future__ import annotations

from airflow.sdk import DAG, task

with DAG(
    dag_id="conditions_calendar",
    schedule=None,
    params={
        "webhook": [
            {"id": "weekend", "key": "t3-weekend", "conditions": [{"type": "WeekendCondition"}]},
            {
                "id": "monday",
                "key": "t3-monday",
                "conditions": [{"type": "io.kestra.plugin.core.condition.DayWeek", "dayOfWeek": "MONDAY"}],
            },
            {
                "id": "holiday",
                "key": "t3-holiday",
                "conditions": [
                    {"type": "PublicHolidayCondition", "country": "DE", "subDivision": "DE-BY", "date": "{{ trigger.body.day }}"}
                ],
            },
            {
                "id": "workday",
                "key": "t3-workday",
                "conditions": [
                    {
                        "type": "NotCondition",
                        "conditions": [
                            {"type": "PublicHolidayCondition", "country": "FR", "date": "{{ trigger.body.day }}"},
                            {"type": "WeekendCondition", "date": "{{ trigger.body.day }}"},
                        ],
                    }
                ],
            },
        ]
    },
):

    @task
    def noop():
        return None

    noop()
