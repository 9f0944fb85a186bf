"""Access: what a caller may do — RBAC permissions, restrictions, operator abilities,
rate limits, captcha, API keys, service accounts and the management API's keychain."""
