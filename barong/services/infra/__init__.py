"""Infrastructure the domains share: the unit of work, Redis clients and expiring marks,
process caches, request info, GeoIP, and seeding."""
