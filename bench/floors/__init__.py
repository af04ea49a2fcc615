"""Floors: the least code that does the same work as a route, served the same way."""
