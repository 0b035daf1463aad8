"""Pydantic models of every internal and public API."""
