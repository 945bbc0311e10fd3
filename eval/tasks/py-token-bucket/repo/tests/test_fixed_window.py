import unittest

from ratelimit import FixedWindowLimiter


class FakeClock:
    def __init__(self, now=0.0):
        self.now = now

    def __call__(self):
        return self.now


class FixedWindowTest(unittest.TestCase):
    def test_limit_per_window(self):
        clock = FakeClock(100.0)
        limiter = FixedWindowLimiter(2, 60, clock=clock)
        self.assertTrue(limiter.allow("a"))
        self.assertTrue(limiter.allow("a"))
        self.assertFalse(limiter.allow("a"))
        self.assertTrue(limiter.allow("b"))
        clock.now = 120.0
        self.assertTrue(limiter.allow("a"))

    def test_bad_arguments(self):
        with self.assertRaises(ValueError):
            FixedWindowLimiter(0, 60)


if __name__ == "__main__":
    unittest.main()
