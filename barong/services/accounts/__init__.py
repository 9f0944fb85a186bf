"""Accounts: users, signup/login/confirmation (identity), sessions, profiles, phones, 2FA,
labels and the level/state they drive, operator-required actions."""
