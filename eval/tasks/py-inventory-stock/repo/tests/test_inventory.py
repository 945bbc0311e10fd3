import unittest

from inventory import Inventory


class InventoryTest(unittest.TestCase):
    def test_add_and_remove(self):
        inv = Inventory()
        inv.add("MUG-BLUE", 10)
        inv.add("MUG-BLUE", 2)
        inv.remove("MUG-BLUE", 5)
        self.assertEqual(inv.stock("MUG-BLUE"), 7)

    def test_unknown_sku_has_no_stock(self):
        self.assertEqual(Inventory().stock("NOPE"), 0)

    def test_report(self):
        inv = Inventory()
        inv.add("TEA", 1)
        inv.add("MUG", 4)
        self.assertEqual(inv.report(), ["MUG: 4", "TEA: 1"])


if __name__ == "__main__":
    unittest.main()
