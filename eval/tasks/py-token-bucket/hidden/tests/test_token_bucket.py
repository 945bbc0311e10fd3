import unittest

from ratelimit import FixedWindowLimiter, TokenBucket


class FakeClock:
    def __init__(self, now=1000.0):
        self.now = now

    def __call__(self):
        return self.now


class TokenBucketTest(unittest.TestCase):
    def setUp(self):
        self.clock = FakeClock()
        # 5 tokens, 2 tokens per second.
        self.bucket = TokenBucket(5, 2, clock=self.clock)

    def test_starts_full_and_empties(self):
        for _ in range(5):
            self.assertTrue(self.bucket.allow("k"))
        self.assertFalse(self.bucket.allow("k"))

    def test_refills_continuously(self):
        for _ in range(5):
            self.bucket.allow("k")
        self.clock.now += 0.25
        self.assertFalse(self.bucket.allow("k"))
        self.clock.now += 0.25
        self.assertTrue(self.bucket.allow("k"))
        self.assertFalse(self.bucket.allow("k"))

    def test_never_above_capacity(self):
        self.bucket.allow("k")
        self.clock.now += 3600
        for _ in range(5):
            self.assertTrue(self.bucket.allow("k"))
        self.assertFalse(self.bucket.allow("k"))

    def test_keys_are_independent(self):
        for _ in range(5):
            self.bucket.allow("a")
        self.assertFalse(self.bucket.allow("a"))
        self.assertTrue(self.bucket.allow("b"))

    def test_cost(self):
        self.assertTrue(self.bucket.allow("k", cost=3))
        self.assertFalse(self.bucket.allow("k", cost=3))
        # The refused request took nothing: the two tokens left are still there.
        self.assertTrue(self.bucket.allow("k", cost=2))
        self.assertFalse(self.bucket.allow("k"))

    def test_retry_after(self):
        self.assertEqual(self.bucket.retry_after("k"), 0)
        self.assertTrue(self.bucket.allow("k", cost=5))
        self.assertAlmostEqual(self.bucket.retry_after("k"), 0.5)
        self.assertAlmostEqual(self.bucket.retry_after("k", cost=4), 2.0)
        # Asking takes nothing.
        self.clock.now += 0.5
        self.assertEqual(self.bucket.retry_after("k"), 0)
        self.assertTrue(self.bucket.allow("k"))

    def test_retry_after_is_when_allow_succeeds(self):
        for _ in range(5):
            self.bucket.allow("k")
        wait = self.bucket.retry_after("k", cost=3)
        self.clock.now += wait * 0.9
        self.assertFalse(self.bucket.allow("k", cost=3))
        self.clock.now += wait * 0.1 + 1e-9
        self.assertTrue(self.bucket.allow("k", cost=3))

    def test_fractional_rates(self):
        bucket = TokenBucket(1, 0.1, clock=self.clock)
        self.assertTrue(bucket.allow("k"))
        self.clock.now += 9.9
        self.assertFalse(bucket.allow("k"))
        self.clock.now += 0.2
        self.assertTrue(bucket.allow("k"))

    def test_bad_arguments(self):
        for args in ((0, 1), (5, 0), (-1, 1), (5, -2)):
            with self.subTest(args=args):
                with self.assertRaises(ValueError):
                    TokenBucket(*args, clock=self.clock)
        for cost in (0, -1, 6):
            with self.subTest(cost=cost):
                with self.assertRaises(ValueError):
                    self.bucket.allow("k", cost=cost)
                with self.assertRaises(ValueError):
                    self.bucket.retry_after("k", cost=cost)

    def test_fixed_window_is_still_there(self):
        limiter = FixedWindowLimiter(1, 60, clock=self.clock)
        self.assertTrue(limiter.allow("k"))
        self.assertFalse(limiter.allow("k"))


if __name__ == "__main__":
    unittest.main()
