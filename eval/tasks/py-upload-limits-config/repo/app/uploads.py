"""Decides whether an upload is accepted."""

from app.settings import load_settings


class Rejected(Exception):
    pass


def check_upload(content_type, size, settings=None):
    settings = settings or load_settings()
    if content_type not in settings.allowed_types:
        raise Rejected(f"{content_type} files are not accepted")
    if size > settings.max_upload_bytes:
        limit_mb = settings.max_upload_bytes // (1024 * 1024)
        raise Rejected(f"file is larger than {limit_mb} MB")
    return True
