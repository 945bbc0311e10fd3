import unittest

import inventory
from inventory import Inventory


class StockRulesTest(unittest.TestCase):
    def setUp(self):
        self.inv = Inventory()
        self.inv.add("MUG-BLUE", 5)

    def test_insufficient_stock_is_a_value_error(self):
        self.assertTrue(issubclass(inventory.InsufficientStock, ValueError))

    def test_removing_too_much_raises_and_keeps_stock(self):
        with self.assertRaises(inventory.InsufficientStock):
            self.inv.remove("MUG-BLUE", 6)
        self.assertEqual(self.inv.stock("MUG-BLUE"), 5)

    def test_removing_everything_is_fine(self):
        self.inv.remove("MUG-BLUE", 5)
        self.assertEqual(self.inv.stock("MUG-BLUE"), 0)
        with self.assertRaises(inventory.InsufficientStock):
            self.inv.remove("MUG-BLUE", 1)

    def test_unknown_sku(self):
        with self.assertRaises(inventory.InsufficientStock):
            self.inv.remove("NEVER-STOCKED", 1)
        self.assertEqual(self.inv.stock("NEVER-STOCKED"), 0)
        self.assertNotIn("NEVER-STOCKED: 0", self.inv.report())

    def test_quantities_must_be_positive_whole_numbers(self):
        for bad in (0, -2, 1.5, "3", None):
            with self.subTest(bad=bad):
                with self.assertRaises(ValueError):
                    self.inv.add("MUG-BLUE", bad)
                with self.assertRaises(ValueError):
                    self.inv.remove("MUG-BLUE", bad)
        self.assertEqual(self.inv.stock("MUG-BLUE"), 5)

    def test_report_never_shows_negative_stock(self):
        try:
            self.inv.remove("MUG-BLUE", 8)
        except ValueError:
            pass
        self.assertEqual(self.inv.report(), ["MUG-BLUE: 5"])


if __name__ == "__main__":
    unittest.main()
