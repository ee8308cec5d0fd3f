"""Open every page of the built book in headless Chromium, as a reader would, and fail on
anything a reader would notice: a request that fails or leaves the machine, an image that
does not decode, math left as raw TeX, an include that was not expanded, a script error.

Usage: python3 .ci/check-book.py target/book
Needs: the `playwright` Python package and Debian's chromium (/usr/bin/chromium).
"""

import functools
import http.server
import pathlib
import sys
import threading
from urllib.parse import urlparse

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Evaluated in the page: what a reader would see that is broken.
PAGE_PROBE = """
() => {
  const main = document.querySelector('main');
  const clone = main.cloneNode(true);
  clone.querySelectorAll('pre, code, math').forEach(e => e.remove());
  const text = clone.innerText;
  const images = [...document.querySelectorAll('main img')].map(img => ({
    src: img.getAttribute('src'), ok: img.complete && img.naturalWidth > 0 }));
  // MathML Core (Chromium) draws only mathvariant="normal"; bold or double-struck letters
  // from \mathbf or \mathbb would silently show as plain italics.
  const unsupported = [...main.querySelectorAll('[mathvariant]')]
    .filter(e => e.getAttribute('mathvariant') !== 'normal')
    .map(e => e.getAttribute('mathvariant') + ' ' + e.textContent);
  return {
    text,
    unsupported,
    math: main.querySelectorAll('math').length,
    katexErrors: main.querySelectorAll('.katex-error').length,
    images,
  };
}
"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(root):
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def check_page(page, url, host):
    problems = []
    requests, failures, bad_status, errors = [], [], [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("requestfailed", lambda r: failures.append(f"{r.url} ({r.failure})"))
    page.on("response", lambda r: r.status >= 400 and bad_status.append(f"{r.url} -> {r.status}"))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url, wait_until="networkidle")
    probe = page.evaluate(PAGE_PROBE)
    for r in requests:
        parsed = urlparse(r)
        if parsed.scheme in ("http", "https", "ws", "wss") and parsed.netloc != host:
            problems.append(f"request leaves the machine: {r}")
    problems += [f"request failed: {f}" for f in failures]
    problems += [f"HTTP error: {b}" for b in bad_status]
    problems += [f"script error: {e}" for e in errors]
    problems += [f"image does not decode: {i['src']}" for i in probe["images"] if not i["ok"]]
    for u in probe["unsupported"][:5]:
        problems.append(f"math styling the browser ignores (avoid \\mathbf, \\mathbb): {u}")
    if probe["katexErrors"]:
        problems.append(f"{probe['katexErrors']} formulas failed to render")
    text = probe["text"]
    for marker in ["$$", "{{#", "ANCHOR", "\\frac", "\\times", "\\text"]:
        if marker in text:
            at = text.index(marker)
            problems.append(f"unrendered source {marker!r} near: {text[max(0, at - 60):at + 60]!r}")
    if text.count("$") >= 2:
        at = text.index("$")
        problems.append(f"a '$' pair left in the text near: {text[max(0, at - 60):at + 60]!r}")
    return problems, probe


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/book")
    pages = sorted(p.name for p in root.glob("*.html") if p.name not in ("404.html", "toc.html"))
    if not pages:
        sys.exit(f"no pages under {root}: build the book first")
    server = serve(root)
    host = f"127.0.0.1:{server.server_address[1]}"
    failed = 0
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for name in pages:
            page = browser.new_page()
            problems, probe = check_page(page, f"http://{host}/{name}", host)
            page.close()
            status = "ok" if not problems else "FAILED"
            print(f"{status:6} {name}: {probe['math']} formulas, {len(probe['images'])} images")
            for p in problems:
                print(f"       - {p}")
            failed += bool(problems)
        browser.close()
    server.shutdown()
    print(f"book in browser: {len(pages) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
