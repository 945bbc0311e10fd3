"""The JSON export format of the address book (version 1)."""

import json

from contacts.models import Person


def to_dict(person):
    data = {"first_name": person.first_name, "last_name": person.last_name}
    if person.email:
        data["email"] = person.email
    if person.tags:
        data["tags"] = list(person.tags)
    return data


def from_dict(data):
    return Person(
        first_name=data["first_name"],
        last_name=data["last_name"],
        email=data.get("email", ""),
        tags=list(data.get("tags", [])),
    )


def export_json(people):
    return json.dumps([to_dict(p) for p in people], indent=2, sort_keys=True)


def import_json(text):
    return [from_dict(d) for d in json.loads(text)]
