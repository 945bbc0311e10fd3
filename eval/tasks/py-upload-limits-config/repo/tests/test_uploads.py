import unittest

from app.settings import load_settings
from app.uploads import Rejected, check_upload


class UploadsTest(unittest.TestCase):
    def test_settings_load(self):
        settings = load_settings()
        self.assertEqual(settings.site_name, "Shutter Club Gallery")
        self.assertIn("image/png", settings.allowed_types)

    def test_small_png_is_accepted(self):
        self.assertTrue(check_upload("image/png", 1024))

    def test_pdf_is_rejected(self):
        with self.assertRaises(Rejected):
            check_upload("application/pdf", 1024)


if __name__ == "__main__":
    unittest.main()
