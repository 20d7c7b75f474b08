"""Rasid (راصد): security-cooperation platform."""

__version__ = "0.1.0"
