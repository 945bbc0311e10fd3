import unittest
from datetime import date, timedelta

from duedate import add_business_days, due_date, is_business_day

FRI = date(2024, 5, 17)
SAT = date(2024, 5, 18)
MON = date(2024, 5, 20)


class BusinessDaysTest(unittest.TestCase):
    def test_the_failing_cases(self):
        self.assertEqual(add_business_days(FRI, 1), MON)
        self.assertEqual(add_business_days(FRI, 1, holidays=[MON]), date(2024, 5, 21))

    def test_saturday_is_not_a_business_day(self):
        self.assertFalse(is_business_day(SAT))
        self.assertFalse(is_business_day(MON, holidays=[MON]))
        self.assertTrue(is_business_day(MON))

    def test_weekend_start(self):
        self.assertEqual(add_business_days(SAT, 1), MON)
        self.assertEqual(add_business_days(SAT, 0), SAT)

    def test_a_full_week(self):
        self.assertEqual(add_business_days(MON, 5), MON + timedelta(days=7))
        self.assertEqual(add_business_days(date(2024, 5, 16), 2), MON)

    def test_holidays_in_a_row_and_on_weekends(self):
        christmas = [date(2024, 12, 24), date(2024, 12, 25), date(2024, 12, 26)]
        self.assertEqual(add_business_days(date(2024, 12, 23), 1, holidays=christmas), date(2024, 12, 27))
        self.assertEqual(add_business_days(FRI, 1, holidays=[SAT]), MON)

    def test_holidays_as_a_tuple(self):
        self.assertEqual(add_business_days(FRI, 1, holidays=(MON,)), date(2024, 5, 21))

    def test_due_dates(self):
        self.assertEqual(due_date(FRI, "urgent"), MON)
        self.assertEqual(due_date(FRI, "normal"), date(2024, 5, 22))
        self.assertEqual(due_date(FRI, "normal", holidays=[MON]), date(2024, 5, 23))


if __name__ == "__main__":
    unittest.main()
