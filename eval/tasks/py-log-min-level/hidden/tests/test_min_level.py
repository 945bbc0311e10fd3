import io
import os
import tempfile
import unittest
from contextlib import redirect_stderr, redirect_stdout

from logsummary import main, summarize

LOG = """2024-05-01T12:00:00Z INFO started
2024-05-01T12:00:01Z DEBUG config loaded
2024-05-01T12:00:02Z WARNING disk at 91%
2024-05-01T12:00:03Z ERROR upload failed
2024-05-01T12:00:04Z CRITICAL out of memory
2024-05-01T12:00:05Z WARNING disk at 95%
not a log line
"""


def run(args):
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


class MinLevelTest(unittest.TestCase):
    def setUp(self):
        self.lines = LOG.splitlines()
        self.tmp = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.tmp.name, "app.log")
        with open(self.path, "w", encoding="utf-8") as f:
            f.write(LOG)

    def tearDown(self):
        self.tmp.cleanup()

    def test_summarize_counts_only_that_level_and_above(self):
        self.assertEqual(
            summarize(self.lines, min_level="WARNING"), {"WARNING": 2, "ERROR": 1, "CRITICAL": 1}
        )
        self.assertEqual(summarize(self.lines, min_level="CRITICAL"), {"CRITICAL": 1})
        self.assertEqual(len(summarize(self.lines, min_level="DEBUG")), 5)

    def test_level_names_are_case_insensitive(self):
        self.assertEqual(summarize(self.lines, min_level="error"), {"ERROR": 1, "CRITICAL": 1})
        self.assertEqual(summarize(self.lines, min_level="Error"), {"ERROR": 1, "CRITICAL": 1})

    def test_without_a_level_everything_counts(self):
        self.assertEqual(sum(summarize(self.lines).values()), 6)
        self.assertEqual(sum(summarize(self.lines, min_level=None).values()), 6)

    def test_unknown_level(self):
        with self.assertRaises(ValueError):
            summarize(self.lines, min_level="LOUD")

    def test_command_line_option(self):
        code, out, _ = run(["--min-level", "warning", self.path])
        self.assertEqual(code, 0)
        self.assertEqual(out, "CRITICAL: 1\nERROR: 1\nWARNING: 2\n")

    def test_command_line_without_the_option(self):
        code, out, _ = run([self.path])
        self.assertEqual(code, 0)
        self.assertEqual(out, "CRITICAL: 1\nERROR: 1\nWARNING: 2\nINFO: 1\nDEBUG: 1\n")

    def test_command_line_unknown_level(self):
        code, out, err = run(["--min-level", "LOUD", self.path])
        self.assertEqual(code, 2)
        self.assertEqual(out, "")
        self.assertIn("LOUD", err)


if __name__ == "__main__":
    unittest.main()
