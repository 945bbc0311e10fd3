"""Due dates in business days (Monday to Friday, minus holidays)."""

from datetime import date, timedelta


def is_business_day(day, holidays=()):
    return day.weekday() <= 5 and day not in holidays


def add_business_days(start, days, holidays=()):
    """The date `days` business days after `start` (which itself need not be a business day)."""
    holidays = {d.isoformat() for d in holidays}
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_business_day(current, holidays):
            remaining -= 1
    return current


def due_date(opened, priority, holidays=()):
    """When a ticket opened on `opened` must be answered: 1 business day for urgent, else 3."""
    return add_business_days(opened, 1 if priority == "urgent" else 3, holidays)


if __name__ == "__main__":
    print(due_date(date.today(), "normal"))
