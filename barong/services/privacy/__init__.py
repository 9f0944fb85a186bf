"""Privacy (GDPR): a user's data export, and the erasure of deleted accounts' personal
data. Above every domain: it reads and erases what they all store."""
