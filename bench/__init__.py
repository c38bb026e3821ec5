"""The benchmark against Airflow's own trigger API: ``python bench/run.py --help``."""
