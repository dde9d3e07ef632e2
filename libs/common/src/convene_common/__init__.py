"""Convene's shared library. It never imports a service."""
