"""Delivery: what leaves the server — mail, SMS, and the Event API's outbox and events."""
