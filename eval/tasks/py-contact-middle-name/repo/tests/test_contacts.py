import unittest

from contacts.models import Person
from contacts.serialize import export_json, from_dict, import_json, to_dict


class ContactsTest(unittest.TestCase):
    def test_full_name(self):
        self.assertEqual(Person("Grace", "Hopper").full_name, "Grace Hopper")

    def test_to_dict_leaves_out_empty_fields(self):
        self.assertEqual(to_dict(Person("Grace", "Hopper")), {"first_name": "Grace", "last_name": "Hopper"})

    def test_round_trip(self):
        people = [Person("Grace", "Hopper", "grace@example.com", ["navy"]), Person("Alan", "Turing")]
        self.assertEqual(import_json(export_json(people)), people)

    def test_from_dict(self):
        p = from_dict({"first_name": "Alan", "last_name": "Turing", "email": "alan@example.com"})
        self.assertEqual(p.email, "alan@example.com")


if __name__ == "__main__":
    unittest.main()
