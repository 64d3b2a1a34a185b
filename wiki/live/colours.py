"""Each person's colour in the live editor: their cursor, selection and name label.

Derived from the account id alone, so it is the same in every browser and every
session without being stored. Hues step round the circle by the golden angle,
so people with neighbouring ids get clearly different colours. The label shows
the name in white on this colour, so the colour is darkened until that text has
a contrast of at least 4.5:1 (WCAG AA for normal text).
"""

from __future__ import annotations

import colorsys

GOLDEN_ANGLE = 137.508
SATURATION = 0.7
MIN_CONTRAST = 4.5


def cursor_colour(account: int) -> str:
    """"#rrggbb" for `account`, dark enough for white text on it."""
    hue = (account * GOLDEN_ANGLE) % 360 / 360
    lightness = 0.5
    while True:
        red, green, blue = colorsys.hls_to_rgb(hue, lightness, SATURATION)
        rgb = tuple(round(c * 255) for c in (red, green, blue))
        if contrast_with_white(rgb) >= MIN_CONTRAST or lightness <= 0.1:
            return "#{:02x}{:02x}{:02x}".format(*rgb)
        lightness -= 0.02


def contrast_with_white(rgb: tuple[int, ...]) -> float:
    """WCAG contrast ratio of white text on the colour `rgb` (0-255 each)."""
    return 1.05 / (relative_luminance(rgb) + 0.05)


def relative_luminance(rgb: tuple[int, ...]) -> float:
    """WCAG relative luminance of an sRGB colour (0-255 each)."""
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(c) for c in rgb)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue
