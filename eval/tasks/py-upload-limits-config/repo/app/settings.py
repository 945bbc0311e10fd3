"""Reads config.toml into a Settings object."""

import tomllib
from dataclasses import dataclass
from pathlib import Path

CONFIG_FILE = Path(__file__).resolve().parent.parent / "config.toml"


@dataclass(frozen=True)
class Settings:
    site_name: str
    max_upload_bytes: int
    allowed_types: tuple
    upload_directory: str
    thumbnail_width: int
    thumbnail_quality: int


def load_settings(path=CONFIG_FILE):
    with open(path, "rb") as f:
        raw = tomllib.load(f)
    uploads = raw["uploads"]
    thumbs = raw["thumbnails"]
    return Settings(
        site_name=raw["site_name"],
        max_upload_bytes=int(uploads["max_size_mb"] * 1024 * 1024),
        allowed_types=tuple(uploads["allowed_types"]),
        upload_directory=uploads["directory"],
        thumbnail_width=thumbs["width"],
        thumbnail_quality=thumbs["quality"],
    )
