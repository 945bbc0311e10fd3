import dataclasses
import unittest

import sales_report
from sales_report import Summary, build_report, render_text, summarize

ROWS = [
    {"region": "north", "product": "Kettle", "quantity": 2, "unit_cents": 2499},
    {"region": "south", "product": "Toaster", "quantity": 1, "unit_cents": 3999},
    {"region": "north", "product": "Mug", "quantity": 10, "unit_cents": 450},
    {"region": "west", "product": "Kettle", "quantity": 1, "unit_cents": 2499},
    {"region": "east", "product": "Mug", "quantity": 2, "unit_cents": 450},
]

TIE = [
    {"region": "b", "product": "Zebra lamp", "quantity": 1, "unit_cents": 1000},
    {"region": "a", "product": "Armchair", "quantity": 1, "unit_cents": 1000},
]


class SummarizeTest(unittest.TestCase):
    def test_summary_is_a_dataclass_with_the_numbers(self):
        s = summarize(ROWS)
        self.assertIsInstance(s, Summary)
        self.assertTrue(dataclasses.is_dataclass(s))
        self.assertEqual(s.total_cents, 16896)
        self.assertEqual(s.by_region, {"north": 9498, "south": 3999, "west": 2499, "east": 900})
        self.assertEqual(s.top_product, "Kettle")
        self.assertEqual(s.order_count, 5)

    def test_empty(self):
        s = summarize([])
        self.assertEqual((s.total_cents, s.by_region, s.top_product, s.order_count), (0, {}, None, 0))

    def test_ties_go_to_the_first_name(self):
        self.assertEqual(summarize(TIE).top_product, "Armchair")

    def test_summarize_accepts_any_iterable(self):
        self.assertEqual(summarize(iter(ROWS)).order_count, 5)


class RenderTest(unittest.TestCase):
    def test_render_text_matches_build_report(self):
        for rows in (ROWS, [], TIE, ROWS[:1]):
            with self.subTest(rows=len(rows)):
                self.assertEqual(render_text(summarize(rows)), build_report(rows))

    def test_render_text_renders_a_summary_it_is_given(self):
        s = Summary(total_cents=30000, by_region={"x": 10000, "y": 20000}, top_product="Desk", order_count=2)
        text = render_text(s)
        self.assertIn("Orders: 2\n", text)
        self.assertIn("Total: 300.00\n", text)
        self.assertLess(text.index("  y "), text.index("  x "))
        self.assertIn("(66.7%)", text)
        self.assertTrue(text.endswith("Top product: Desk\n"))

    def test_build_report_unchanged(self):
        self.assertEqual(
            build_report(ROWS),
            "Weekly sales report\n"
            "===================\n"
            "Orders: 5\n"
            "Total: 168.96\n"
            "\n"
            "By region:\n"
            "  north             94.98  (56.2%)\n"
            "  south             39.99  (23.7%)\n"
            "  west              24.99  (14.8%)\n"
            "  east               9.00  (5.3%)\n"
            "\n"
            "Top product: Kettle\n",
        )

    def test_build_report_uses_the_two_halves(self):
        calls = []
        real_summarize, real_render = sales_report.summarize, sales_report.render_text

        def spy_summarize(rows):
            calls.append("summarize")
            return real_summarize(rows)

        def spy_render(summary):
            calls.append("render_text")
            return real_render(summary)

        sales_report.summarize, sales_report.render_text = spy_summarize, spy_render
        try:
            sales_report.build_report(ROWS)
        finally:
            sales_report.summarize, sales_report.render_text = real_summarize, real_render
        self.assertEqual(calls, ["summarize", "render_text"])


if __name__ == "__main__":
    unittest.main()
