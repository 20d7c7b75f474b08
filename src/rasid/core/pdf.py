"""HTML to PDF with WeasyPrint and the server's own Noto fonts (nothing from the internet)."""

from __future__ import annotations

from pathlib import Path

from rasid.core.errors import ValidationFailed

FONTS_DIR = Path(__file__).resolve().parent.parent / "web" / "static" / "vendor" / "fonts" / "files"


def fonts_url() -> str:
    """The ``file://`` address of the bundled fonts, for ``@font-face`` rules."""
    return FONTS_DIR.as_uri()


def font_faces() -> str:
    """``@font-face`` rules for Noto Sans Arabic and Noto Sans."""
    base = fonts_url()
    return (
        f'@font-face {{ font-family: "Noto Sans Arabic"; '
        f'src: url("{base}/noto-sans-arabic-arabic-400-normal.woff2"); }}\n'
        f'@font-face {{ font-family: "Noto Sans"; src: url("{base}/noto-sans-latin-400-normal.woff2"); }}\n'
    )


def html_to_pdf(html: str) -> bytes:
    """Render a whole HTML document; a server without Pango gets a clear error."""
    try:
        from weasyprint import HTML  # type: ignore[import-untyped]
    except OSError as exc:  # Pango is missing
        raise ValidationFailed(
            "PDF export needs Pango on this server (Debian: libpango-1.0-0 libpangoft2-1.0-0): "
            "%(reason)s",
            field="format",
            reason=str(exc).splitlines()[0],
        ) from exc
    return bytes(HTML(string=html).write_pdf())
