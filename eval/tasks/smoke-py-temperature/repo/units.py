"""Unit conversions used by the weather widget."""


def celsius_to_fahrenheit(c):
    return c * 9 / 5 + 32


def fahrenheit_to_celsius(f):
    return f - 32 * 5 / 9


def kmh_to_ms(kmh):
    """Wind speed: kilometres per hour to metres per second."""
    return kmh / 3.6
