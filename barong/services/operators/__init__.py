"""Operators: the actions behind the admin API and the console — user administration,
settings tables, support-desk actions, comments, metrics."""
