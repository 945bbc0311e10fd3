"""Serves site/ the way the preview does and reads the home page as a visitor would."""

import html
import re
import threading
import unittest
import urllib.request
from functools import partial
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "site"


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class Page(HTMLParser):
    """Collects the visible text, headings and the footer text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text = []
        self.headings = []
        self.footer = []
        self._stack = []

    def handle_starttag(self, tag, attrs):
        if tag not in ("br", "img", "meta", "link", "hr", "input"):
            self._stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self._stack:
            while self._stack and self._stack.pop() != tag:
                pass

    def handle_data(self, data):
        if any(t in ("script", "style", "title", "head") for t in self._stack):
            return
        self.text.append(data)
        if any(t in ("h1", "h2", "h3", "h4") for t in self._stack):
            self.headings.append(data.strip())
        if "footer" in self._stack:
            self.footer.append(data)


def squash(parts):
    return re.sub(r"\s+", " ", " ".join(parts)).strip().lower()


class HomePageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        handler = partial(Quiet, directory=str(SITE))
        cls.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        cls.thread = threading.Thread(target=cls.server.serve_forever, daemon=True)
        cls.thread.start()
        base = f"http://127.0.0.1:{cls.server.server_address[1]}"
        with urllib.request.urlopen(f"{base}/", timeout=10) as res:
            cls.status = res.status
            cls.body = res.read().decode("utf-8")
        cls.base = base
        page = Page()
        page.feed(cls.body)
        cls.page = page
        cls.text = squash(page.text)

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()

    def test_served(self):
        self.assertEqual(self.status, 200)
        with urllib.request.urlopen(f"{self.base}/style.css", timeout=10) as res:
            self.assertEqual(res.status, 200)

    def test_heading(self):
        self.assertIn("opening hours", [h.lower() for h in self.page.headings])

    def test_hours(self):
        text = self.text.replace("–", "-").replace("—", "-")
        hours = text[text.index("opening hours") :]
        self.assertRegex(hours, r"mon(day)?\.?\s*(-|to|through)\s*fri(day)?")
        self.assertRegex(hours, r"0?7[:.]00\s*(-|to)\s*18[:.]00")
        self.assertRegex(hours, r"sat(urday)?\.?\s*:?\s*0?8[:.]00\s*(-|to)\s*14[:.]00")
        self.assertRegex(hours, r"sun(day)?\.?\s*:?\s*closed")

    def test_hours_below_the_address(self):
        body = self.body.lower()
        self.assertLess(body.index("</address>"), body.index("opening hours"))
        self.assertLess(self.text.index("12 mill lane"), self.text.index("opening hours"))

    def test_footer_year(self):
        footer = squash(self.page.footer)
        self.assertIn("2025", footer)
        self.assertNotIn("2023", footer)
        self.assertIn("crumb & co", html.unescape(footer))

    def test_rest_of_the_page_is_still_there(self):
        for words in ("baked this morning", "visit us", "orders", "12 mill lane"):
            self.assertIn(words, self.text)

    def test_preview_config_still_serves_the_site(self):
        config = (ROOT / ".devbot.yml").read_text(encoding="utf-8")
        self.assertRegex(config, r"--directory\s+site")
        self.assertRegex(config, r"port:\s*8000")


if __name__ == "__main__":
    unittest.main()
