"""Citizen routes: registration and the signed-in citizen's own profile."""
