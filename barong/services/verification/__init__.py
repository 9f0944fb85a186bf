"""Verification (KYC): documents and their files, the review queue and decisions, the
KYC vendor callback, user-storage blobs, and the mails sent when a KYC label changes."""
