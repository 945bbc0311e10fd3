import unittest

from sales_report import build_report

ROWS = [
    {"region": "north", "product": "Kettle", "quantity": 2, "unit_cents": 2499},
    {"region": "south", "product": "Toaster", "quantity": 1, "unit_cents": 3999},
    {"region": "north", "product": "Mug", "quantity": 10, "unit_cents": 450},
    {"region": "west", "product": "Kettle", "quantity": 1, "unit_cents": 2499},
]


class BuildReportTest(unittest.TestCase):
    def test_report(self):
        self.assertEqual(
            build_report(ROWS),
            "Weekly sales report\n"
            "===================\n"
            "Orders: 4\n"
            "Total: 159.96\n"
            "\n"
            "By region:\n"
            "  north             94.98  (59.4%)\n"
            "  south             39.99  (25.0%)\n"
            "  west              24.99  (15.6%)\n"
            "\n"
            "Top product: Kettle\n",
        )

    def test_no_orders(self):
        self.assertEqual(build_report([]), "Weekly sales report\n===================\nNo orders this week.\n")

    def test_thousands_separator(self):
        rows = [{"region": "east", "product": "Sofa", "quantity": 3, "unit_cents": 129900}]
        self.assertIn("Total: 3,897.00", build_report(rows))


if __name__ == "__main__":
    unittest.main()
