from django.core.files.uploadedfile import SimpleUploadedFile

from attachments.demo import demo_png

PNG = demo_png(8, 6)


def stored(root) -> list[str]:
    """Every file under the storage directory, relative to it."""
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def upload(name="screenshot.png", content=PNG, content_type="image/png"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def log_file(name="app.log", content=b"08:41 ERROR gateway unreachable\n",
             content_type="text/plain"):
    return SimpleUploadedFile(name, content, content_type=content_type)
