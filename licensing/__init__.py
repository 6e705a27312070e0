"""Creators, works, offers, licensee organisations, licenses and usage."""
