"""QR codes as small inline SVG, drawn locally with the qrcode package."""

import qrcode
from markupsafe import Markup


def qr_svg(data: str, *, label: str = "", border: int = 2) -> Markup:
    """Return an inline SVG QR code for data (error correction M, runs merged)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=border)
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()
    size = len(matrix)
    parts = []
    for y, row in enumerate(matrix):
        x = 0
        while x < size:
            if row[x]:
                start = x
                while x < size and row[x]:
                    x += 1
                parts.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    title = f"<title>{Markup.escape(label)}</title>" if label else ""
    return Markup(
        f'<svg class="qr" viewBox="0 0 {size} {size}" xmlns="http://www.w3.org/2000/svg" '
        f'role="img" shape-rendering="crispEdges">{title}'
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path d="{"".join(parts)}" fill="#000"/></svg>'
    )
