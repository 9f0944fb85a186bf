"""Domain services: one function per user-visible action, shared by HTML and JSON views.

Services flush; the request commits once (unit_of_work). They never touch `request`,
`flash` or templates: callers pass a `RequestInfo` (ip, user agent) when needed.
"""
