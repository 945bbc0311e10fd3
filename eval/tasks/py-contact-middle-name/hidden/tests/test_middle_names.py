import json
import unittest

from contacts.models import Person
from contacts.serialize import export_json, from_dict, import_json, to_dict


class MiddleNameTest(unittest.TestCase):
    def test_middle_name_defaults_to_none(self):
        self.assertIsNone(Person("Alan", "Turing").middle_name)
        self.assertIsNone(Person("Alan", "Turing", "alan@example.com").middle_name)

    def test_full_name_includes_it(self):
        self.assertEqual(Person("Ada", "King", middle_name="Augusta").full_name, "Ada Augusta King")
        self.assertEqual(Person("Ada", "King").full_name, "Ada King")

    def test_export_only_when_set(self):
        self.assertEqual(
            to_dict(Person("Ada", "King", middle_name="Augusta")),
            {"first_name": "Ada", "middle_name": "Augusta", "last_name": "King"},
        )
        self.assertNotIn("middle_name", to_dict(Person("Alan", "Turing")))

    def test_old_exports_still_import(self):
        old = '[{"first_name": "Alan", "last_name": "Turing", "tags": ["bletchley"]}]'
        [alan] = import_json(old)
        self.assertEqual(alan, Person("Alan", "Turing", tags=["bletchley"]))
        self.assertIsNone(alan.middle_name)

    def test_round_trip_with_middle_name(self):
        ada = Person("Ada", "King", "ada@example.com", ["math"], middle_name="Augusta")
        self.assertEqual(from_dict(to_dict(ada)), ada)
        self.assertEqual(import_json(export_json([ada])), [ada])
        self.assertEqual(json.loads(export_json([ada]))[0]["middle_name"], "Augusta")

    def test_exports_without_middle_names_are_unchanged(self):
        people = [Person("Grace", "Hopper", "grace@example.com", ["navy"])]
        self.assertEqual(
            json.loads(export_json(people)),
            [{"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com", "tags": ["navy"]}],
        )


if __name__ == "__main__":
    unittest.main()
