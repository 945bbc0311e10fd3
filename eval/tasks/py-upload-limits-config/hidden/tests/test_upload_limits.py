import unittest

from app.settings import load_settings
from app.uploads import Rejected, check_upload

MB = 1024 * 1024


class UploadLimitsTest(unittest.TestCase):
    def test_limit_is_25_mb(self):
        self.assertEqual(load_settings().max_upload_bytes, 25 * MB)
        self.assertTrue(check_upload("image/jpeg", 25 * MB))
        with self.assertRaises(Rejected):
            check_upload("image/jpeg", 25 * MB + 1)

    def test_webp_png_and_jpeg_are_accepted(self):
        for content_type in ("image/webp", "image/png", "image/jpeg"):
            with self.subTest(content_type=content_type):
                self.assertTrue(check_upload(content_type, 18 * MB))
        with self.assertRaises(Rejected):
            check_upload("image/gif", MB)

    def test_other_settings_are_unchanged(self):
        s = load_settings()
        self.assertEqual(s.site_name, "Shutter Club Gallery")
        self.assertEqual(s.upload_directory, "uploads")
        self.assertEqual((s.thumbnail_width, s.thumbnail_quality), (320, 82))
        self.assertEqual(len(s.allowed_types), 3)


if __name__ == "__main__":
    unittest.main()
