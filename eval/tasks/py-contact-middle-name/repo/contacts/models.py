from dataclasses import dataclass, field


@dataclass
class Person:
    first_name: str
    last_name: str
    email: str = ""
    tags: list = field(default_factory=list)

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}"
