import unittest

from units import celsius_to_fahrenheit, kmh_to_ms


class CelsiusToFahrenheitTest(unittest.TestCase):
    def test_freezing_and_boiling(self):
        self.assertEqual(celsius_to_fahrenheit(0), 32)
        self.assertEqual(celsius_to_fahrenheit(100), 212)

    def test_wind(self):
        self.assertAlmostEqual(kmh_to_ms(36), 10)


if __name__ == "__main__":
    unittest.main()
