"""Convene's web service: server-rendered pages for citizens, council staff and admins."""
