"""Deploy checks on where files live: uploads never among the code or the static files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import checks

# BASE_DIR/var holds the data of a checkout (database, backups, uploads); everything else
# under BASE_DIR is code, templates or static sources.
DATA_DIRECTORY = "var"


def _overlap(one: Path, other: Path) -> bool:
    return one.is_relative_to(other) or other.is_relative_to(one)


def media_root_problems(
    *, media_root: Path, base_dir: Path, static_root: Path | None
) -> list[checks.CheckMessage]:
    """Return errors when `media_root` is or holds code, or shares a folder with static files."""
    media = media_root.resolve()
    base = base_dir.resolve()
    data = base / DATA_DIRECTORY
    problems: list[checks.CheckMessage] = []
    inside_code = media.is_relative_to(base) and not (media.is_relative_to(data) and media != data)
    if inside_code or base.is_relative_to(media):
        problems.append(
            checks.Error(
                f"MEDIA_ROOT ({media}) is inside or around the code directory ({base}).",
                hint=f"Set MEDIA_ROOT to a folder under {data}/ or outside {base}.",
                id="cer.E010",
            )
        )
    if static_root is not None and _overlap(media, static_root.resolve()):
        problems.append(
            checks.Error(
                f"MEDIA_ROOT ({media}) and STATIC_ROOT ({static_root}) share a folder.",
                hint="Uploaded files must never be served as static files.",
                id="cer.E011",
            )
        )
    return problems


@checks.register(checks.Tags.security, deploy=True)
def check_media_root(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    """Production keeps uploads out of the code and away from the static files."""
    static_root = getattr(settings, "STATIC_ROOT", None)
    return media_root_problems(
        media_root=Path(settings.MEDIA_ROOT),
        base_dir=Path(settings.BASE_DIR),
        static_root=Path(static_root) if static_root else None,
    )
