import unittest

from units import celsius_to_fahrenheit, fahrenheit_to_celsius


class FahrenheitToCelsiusTest(unittest.TestCase):
    def test_known_points(self):
        self.assertAlmostEqual(fahrenheit_to_celsius(212), 100)
        self.assertAlmostEqual(fahrenheit_to_celsius(32), 0)
        self.assertAlmostEqual(fahrenheit_to_celsius(-40), -40)
        self.assertAlmostEqual(fahrenheit_to_celsius(98.6), 37, places=6)

    def test_round_trip(self):
        for c in (-30, -1.5, 0, 21.25, 40):
            self.assertAlmostEqual(fahrenheit_to_celsius(celsius_to_fahrenheit(c)), c)


if __name__ == "__main__":
    unittest.main()
