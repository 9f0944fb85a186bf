"""Audit: the user activity log and the operators' audit rows."""
