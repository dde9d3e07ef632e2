"""Imports of past consultation responses (admins, or a body's managers) and the citizen's
side of them (confirm or decline), and a citizen's upload of Q&A answers. Profiles owns the
data (it holds the addresses and publishes evidence on the change feed); these routes front it.
"""
