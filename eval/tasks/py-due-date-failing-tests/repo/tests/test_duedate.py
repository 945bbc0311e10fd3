import unittest
from datetime import date

from duedate import add_business_days, due_date, is_business_day


class DueDateTest(unittest.TestCase):
    def test_midweek(self):
        # Tuesday 2024-05-14 + 2 business days = Thursday.
        self.assertEqual(add_business_days(date(2024, 5, 14), 2), date(2024, 5, 16))

    def test_friday_plus_one_business_day_is_monday(self):
        self.assertEqual(add_business_days(date(2024, 5, 17), 1), date(2024, 5, 20))

    def test_holidays_are_skipped(self):
        # Whit Monday 2024-05-20 is a holiday: Friday + 1 business day is Tuesday.
        self.assertEqual(
            add_business_days(date(2024, 5, 17), 1, holidays=[date(2024, 5, 20)]), date(2024, 5, 21)
        )

    def test_weekend_is_not_business(self):
        self.assertTrue(is_business_day(date(2024, 5, 17)))
        self.assertFalse(is_business_day(date(2024, 5, 19)))

    def test_urgent_tickets(self):
        self.assertEqual(due_date(date(2024, 5, 14), "urgent"), date(2024, 5, 15))


if __name__ == "__main__":
    unittest.main()
