"""Text layout for the receipt printers."""


def wrap(text, width):
    """Splits `text` into lines of at most `width` characters, breaking between words."""
    if width < 1:
        raise ValueError("width must be at least 1")
    lines = []
    current = ""
    for word in text.split(" "):
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        lines.append(current)
    return lines


def format_line_item(name, cents, width):
    """'Name ....... 12.50' padded to exactly `width` characters (the name is cut if needed)."""
    price = f"{cents // 100}.{cents % 100:02d}"
    room = width - len(price) - 1
    name = name if len(name) <= room else name[: room - 1] + "~"
    return f"{name} {price.rjust(width - len(name) - 1, '.')}"


def receipt(items, footer, width=32):
    lines = [format_line_item(name, cents, width) for name, cents in items]
    lines.append("-" * width)
    lines.extend(wrap(footer, width))
    return "\n".join(lines)
