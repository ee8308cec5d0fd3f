"""Check the built book as a reader meets it, and fail on anything a reader would notice.

First every internal link: each link, image and stylesheet of every page must name a file
of the book, and a link with a fragment (`page.html#section`, `#section`) an id on that
page. Then every page is opened in headless Chromium: a request that fails or leaves the
machine, an image that does not decode, math left as raw TeX, an include that was not
expanded or a script error fails it.

Usage: python3 .ci/check-book.py target/book
       python3 .ci/check-book.py --self-test    (the link check finds planted faults)
Needs: the `playwright` Python package and Debian's chromium (/usr/bin/chromium).
"""

import functools
import html.parser
import http.server
import pathlib
import sys
import tempfile
import threading
from urllib.parse import unquote, urlparse

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


class LinkParser(html.parser.HTMLParser):
    """Collects a page's ids and the addresses it refers to."""

    REFERENCES = {"a": "href", "link": "href", "img": "src", "script": "src"}

    def __init__(self):
        super().__init__()
        self.ids = set()
        self.refs = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if attrs.get(key):
                self.ids.add(attrs[key])
        ref = attrs.get(self.REFERENCES.get(tag, ""))
        if ref is not None:
            self.refs.append((tag, ref))


def check_links(root):
    """Returns one line per broken internal reference of the book under `root`."""
    root = root.resolve()
    pages = {}
    for path in sorted(root.rglob("*.html")):
        parser = LinkParser()
        parser.feed(path.read_text(encoding="utf-8"))
        pages[path] = parser
    problems = []
    for path, parser in pages.items():
        page = path.relative_to(root)
        for tag, ref in parser.refs:
            url = urlparse(ref)
            if url.scheme or url.netloc:
                continue  # external (the browser check forbids fetching any)
            if not url.path:
                target = path
            elif url.path.startswith("/"):
                target = root / unquote(url.path).lstrip("/")
            else:
                target = (path.parent / unquote(url.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if root not in target.parents and target != root:
                problems.append(f"{page}: <{tag}> {ref!r} points outside the book")
                continue
            if not target.is_file():
                problems.append(f"{page}: <{tag}> {ref!r}: no file {target.relative_to(root)}")
                continue
            fragment = unquote(url.fragment)
            if fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else set()
                if fragment not in ids:
                    where = target.relative_to(root)
                    problems.append(f"{page}: <{tag}> {ref!r}: no id {fragment!r} in {where}")
    return problems, len(pages), sum(len(p.refs) for p in pages.values())


def self_test():
    """Plants a missing page, a missing anchor and a missing image in a tiny book and
    checks that each is reported, and that the sound links are not."""
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp)
        (root / "a.html").write_text(
            '<h2 id="here">x</h2><a href="b.html#there">ok</a><a href="#here">ok</a>'
            '<a href="gone.html">bad</a><a href="b.html#nowhere">bad</a>'
            '<img src="figures/missing.svg"><a href="https://example.org/">external</a>')
        (root / "b.html").write_text('<a name="there"></a><a href="a.html">ok</a>')
        problems, _, _ = check_links(root)
        expected = ["'gone.html'", "'b.html#nowhere'", "'figures/missing.svg'"]
        missed = [e for e in expected if not any(e in p for p in problems)]
        if missed or len(problems) != len(expected):
            sys.exit(f"link check self-test FAILED: reported {problems}, expected {expected}")
    print(f"link check self-test: the {len(expected)} planted faults reported, nothing else")


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
    if sys.argv[1:] == ["--self-test"]:
        self_test()
        return
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/book")
    pages = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.html")
                   if p.name not in ("404.html", "toc.html"))
    if not pages:
        sys.exit(f"no pages under {root}: build the book first")
    broken, n_pages, n_refs = check_links(root)
    for line in broken:
        print(f"broken link: {line}")
    if broken:
        sys.exit(f"{len(broken)} broken internal links or anchors")
    print(f"links: {n_refs} references on {n_pages} pages, every internal one resolves")
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
