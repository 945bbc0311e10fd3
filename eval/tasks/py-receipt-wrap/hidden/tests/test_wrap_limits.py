import unittest

from receipt import receipt, wrap

URL = "https://shop.example.com/r/8f3a9c2e77b14d0a"


class WrapLimitsTest(unittest.TestCase):
    def assert_fits(self, lines, width):
        for line in lines:
            self.assertLessEqual(len(line), width, line)

    def test_a_long_word_alone(self):
        self.assertEqual(wrap("abcdefghijkl", 5), ["abcde", "fghij", "kl"])
        self.assertEqual(wrap("abcdefghij", 5), ["abcde", "fghij"])

    def test_a_long_word_starts_on_a_new_line(self):
        lines = wrap(f"Track: {URL}", 16)
        self.assert_fits(lines, 16)
        self.assertEqual(lines[0], "Track:")
        self.assertEqual(lines[1], URL[:16])
        self.assertEqual("".join(lines[1:]).replace(" ", ""), URL)

    def test_nothing_is_lost(self):
        text = f"Voucher {URL} valid until 2025-12-31 at participating stores"
        for width in (1, 3, 7, 10, 32):
            with self.subTest(width=width):
                lines = wrap(text, width)
                self.assert_fits(lines, width)
                self.assertEqual("".join(lines).replace(" ", ""), text.replace(" ", ""))

    def test_runs_of_whitespace_are_one_separator(self):
        self.assertEqual(wrap("Thank  you\tfor\n\nshopping", 40), ["Thank you for shopping"])
        self.assertEqual(wrap("  leading and trailing  ", 40), ["leading and trailing"])
        self.assertEqual(wrap(" \n\t ", 10), [])

    def test_no_empty_or_padded_lines(self):
        for line in wrap("a  b   c    d", 3):
            self.assertTrue(line)
            self.assertEqual(line, line.strip())
            self.assertNotIn("  ", line)

    def test_greedy_as_before(self):
        self.assertEqual(
            wrap("Thank you for shopping with us today", 16),
            ["Thank you for", "shopping with us", "today"],
        )
        self.assertEqual(wrap("one two three", 7), ["one two", "three"])

    def test_receipt_footer_fits_the_printer(self):
        text = receipt([("Tea", 250)], f"Rate us: {URL}  Thanks!", width=32)
        self.assert_fits(text.split("\n"), 32)


if __name__ == "__main__":
    unittest.main()
