"""The HTTP layer: the Flask blueprint, and how it is served by Airflow 3's api-server."""
