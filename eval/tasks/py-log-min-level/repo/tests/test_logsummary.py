import io
import os
import tempfile
import unittest
from contextlib import redirect_stdout

from logsummary import main, parse_line, summarize

LOG = """2024-05-01T12:00:00Z INFO started
2024-05-01T12:00:01Z DEBUG config loaded
2024-05-01T12:00:02Z WARNING disk at 91%
  a stack trace line
2024-05-01T12:00:03Z ERROR upload failed
2024-05-01T12:00:04Z INFO request done
"""


class LogSummaryTest(unittest.TestCase):
    def test_parse_line(self):
        self.assertEqual(parse_line("t ERROR boom\n"), ("t", "ERROR", "boom"))
        self.assertIsNone(parse_line("  a stack trace line"))

    def test_summarize(self):
        self.assertEqual(
            summarize(LOG.splitlines()), {"INFO": 2, "DEBUG": 1, "WARNING": 1, "ERROR": 1}
        )

    def test_main_prints_most_severe_first(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "app.log")
            with open(path, "w", encoding="utf-8") as f:
                f.write(LOG)
            out = io.StringIO()
            with redirect_stdout(out):
                self.assertEqual(main([path]), 0)
        self.assertEqual(out.getvalue(), "ERROR: 1\nWARNING: 1\nINFO: 2\nDEBUG: 1\n")


if __name__ == "__main__":
    unittest.main()
