"""Check the book's PDF (made by ./book-pdf): every chapter of SUMMARY.md is in its
outline, in order, the page count is plausible, and no image is missing.

How a missing image is found: Chromium prints an image it cannot load as its small
"broken image" icon, a bitmap. This script first prints a page whose only image is missing
(with ./book-pdf, so with the same browser and settings), learns the icon's pixel size from
that PDF, and then fails if the book's PDF holds a bitmap of that size. The calibration
fails loudly if the icon cannot be found, so a browser that draws broken images
differently cannot make the check pass silently.

Usage: python3 .ci/check-pdf.py target/cnn-book.pdf
Needs only the standard library; the calibration runs ./book-pdf (so Chromium).
"""

import functools
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
# A chapter is at least a page; the book has about ten per chapter.
MIN_PAGES_PER_CHAPTER = 3


def images(pdf):
    """The (width, height) of every bitmap in the PDF."""
    sizes = []
    for m in re.finditer(rb"<<(?:(?!>>).)*?/Subtype\s*/Image(?:(?!>>).)*>>", pdf, re.S):
        d = m.group(0)
        w = re.search(rb"/Width\s+(\d+)", d)
        h = re.search(rb"/Height\s+(\d+)", d)
        if w and h:
            sizes.append((int(w.group(1)), int(h.group(1))))
    return sizes


def pages(pdf):
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


def decode_string(raw):
    """A PDF string, literal `(...)` or hex `<...>`, as text."""
    if raw.startswith(b"<"):
        data = bytes.fromhex(raw[1:-1].decode("ascii"))
    else:
        body = raw[1:-1]
        data = re.sub(
            rb"\\([nrtbf()\\]|[0-7]{1,3})",
            lambda m: (bytes([int(m.group(1), 8)]) if m.group(1)[:1].isdigit()
                       else {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b",
                             b"f": b"\f"}.get(m.group(1), m.group(1))),
            body)
    if data.startswith(b"\xfe\xff"):
        return data[2:].decode("utf-16-be")
    return data.decode("latin-1")


def outline_titles(pdf):
    titles = []
    for m in re.finditer(rb"/Title\s*(\((?:\\.|[^\\)])*\)|<[0-9A-Fa-f\s]*>)", pdf, re.S):
        titles.append(decode_string(m.group(1)))
    return titles


def chapters():
    """The titles (first `# ` heading) of the pages SUMMARY.md lists, in order: what the
    PDF's outline names them."""
    book = ROOT / "book"
    summary = (book / "SUMMARY.md").read_text(encoding="utf-8")
    titles = []
    for page in re.findall(r"\[[^\]]+\]\(([^)]+\.md)\)", summary):
        text = (book / page).read_text(encoding="utf-8")
        heading = re.search(r"^# (.+)$", text, re.M)
        if not heading:
            sys.exit(f"check-pdf: book/{page} has no '# ' title")
        titles.append(heading.group(1).strip())
    return titles


def broken_icon_sizes():
    with tempfile.TemporaryDirectory() as tmp:
        page = pathlib.Path(tmp) / "missing.html"
        page.write_text('<p>A page whose only image is missing.</p>'
                        '<img src="no-such-figure.svg" alt="a missing figure">')
        out = pathlib.Path(tmp) / "missing.pdf"
        subprocess.run([str(ROOT / "book-pdf"), str(out), str(page)], check=True,
                       stdout=subprocess.DEVNULL)
        sizes = set(images(out.read_bytes()))
    if not sizes:
        sys.exit("check-pdf: calibration FAILED: a page with a missing image printed no "
                 "bitmap, so this browser's broken-image icon cannot be recognised")
    return sizes


def main():
    path = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/cnn-book.pdf")
    pdf = path.read_bytes()
    problems = []

    icon = broken_icon_sizes()
    print(f"broken-image icon of this browser: bitmaps of {sorted(icon)} pixels")
    bitmaps = images(pdf)
    missing = [s for s in bitmaps if s in icon]
    if missing:
        problems.append(f"{len(missing)} images missing (printed as the broken-image icon)")

    # Chromium drops the space where a long heading wraps ("matrixproduct"), so titles are
    # compared without their spaces.
    squeeze = functools.partial(re.sub, r"\s+", "")
    titles = [squeeze(t) for t in outline_titles(pdf)]
    expected = chapters()
    at = 0
    for chapter in expected:
        try:
            at = titles.index(squeeze(chapter), at) + 1
        except ValueError:
            problems.append(f"chapter {chapter!r} is not in the outline (or out of order)")
    n = pages(pdf)
    if n < MIN_PAGES_PER_CHAPTER * len(expected):
        problems.append(f"only {n} pages for {len(expected)} chapters")

    print(f"{path}: {n} pages, all {len(expected)} pages of SUMMARY.md in the outline, "
          f"{len(bitmaps)} bitmaps, {len(pdf) / 1e6:.1f} MB")
    for p in problems:
        print(f"  - {p}")
    if problems:
        sys.exit("check-pdf: FAILED")
    print("check-pdf: ok")


if __name__ == "__main__":
    main()
