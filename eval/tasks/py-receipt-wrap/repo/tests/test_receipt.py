import unittest

from receipt import format_line_item, receipt, wrap


class WrapTest(unittest.TestCase):
    def test_greedy(self):
        self.assertEqual(
            wrap("Thank you for shopping with us today", 16),
            ["Thank you for", "shopping with us", "today"],
        )

    def test_short_text(self):
        self.assertEqual(wrap("Hi", 10), ["Hi"])
        self.assertEqual(wrap("", 10), [])

    def test_bad_width(self):
        with self.assertRaises(ValueError):
            wrap("x", 0)


class ReceiptTest(unittest.TestCase):
    def test_line_item(self):
        self.assertEqual(format_line_item("Coffee", 350, 20), "Coffee .........3.50")

    def test_receipt(self):
        text = receipt([("Tea", 250)], "Thanks!", width=12)
        self.assertEqual(text, "Tea ....2.50\n------------\nThanks!")


if __name__ == "__main__":
    unittest.main()
