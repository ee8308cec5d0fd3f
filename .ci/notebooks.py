"""The executed notebooks: copies of notebooks/*.ipynb with their outputs, committed in
notebooks/executed/ (a repository browser shows them with outputs) and rendered as pages
of the book in book/notebooks/ (readable offline, without the Rust kernel).

Each executed copy records a stamp of what its outputs depend on: the notebook's own
cells and every committed file of the library (src/, data/, weights/, Cargo.toml,
Cargo.lock and the chapters' results.json). `check` fails when a stamp differs from the
current sources (an output may be stale), when an executed copy's cells differ from the
notebook's, or when a rendered page differs from its executed copy; the fix is always

    .ci/run-notebooks --update notebooks/NN-name.ipynb

Usage:
    python3 .ci/notebooks.py update NOTEBOOK.ipynb EXECUTED.ipynb   (used by run-notebooks)
    python3 .ci/notebooks.py check
    python3 .ci/notebooks.py render     (rewrite every page from the committed copies)
"""

import base64
import hashlib
import json
import pathlib
import platform
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
EXECUTED = NOTEBOOKS / "executed"
PAGES = ROOT / "book" / "notebooks"
# What a notebook's outputs can depend on besides its own cells.
LIBRARY = ["src", "data", "weights", "Cargo.toml", "Cargo.lock",
           "book/generated/*/results.json"]
FIX = ".ci/run-notebooks --update"


def cells_of(nb):
    """A notebook's cells without outputs: (type, id, source) triples."""
    return [(c["cell_type"], c.get("id"), "".join(c["source"])) for c in nb["cells"]]


def digest(data):
    return hashlib.sha256(data).hexdigest()


def library_stamp():
    files = subprocess.run(["git", "ls-files", "-z", "--", *LIBRARY], cwd=ROOT, check=True,
                           capture_output=True).stdout.decode().split("\0")
    h = hashlib.sha256()
    for name in sorted(f for f in files if f):
        h.update(name.encode() + b"\0" + digest((ROOT / name).read_bytes()).encode() + b"\n")
    return h.hexdigest()


def cells_stamp(nb):
    return digest(json.dumps(cells_of(nb), ensure_ascii=False).encode())


def cpu():
    try:
        info = pathlib.Path("/proc/cpuinfo").read_text()
        model = re.search(r"^model name\s*:\s*(.*)$", info, re.M).group(1).strip()
        flags = set(re.search(r"^flags\s*:\s*(.*)$", info, re.M).group(1).split())
        isa = "AVX-512" if "avx512f" in flags else "AVX2 + FMA" if "avx2" in flags else "SSE"
        return f"{model} ({isa})"
    except (OSError, AttributeError):
        return platform.machine()


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def save(path, nb):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(nb, f, ensure_ascii=False, indent=1)
        f.write("\n")


def update(notebook, executed):
    """Stores the executed run of `notebook` as its committed executed copy and page."""
    notebook, executed = pathlib.Path(notebook), pathlib.Path(executed)
    clean, run = load(notebook), load(executed)
    if cells_of(clean) != cells_of(run):
        sys.exit(f"{executed} is not a run of {notebook}: their cells differ")
    for cell in run["cells"]:
        # nbconvert's timestamps would change every run.
        cell.get("metadata", {}).pop("execution", None)
    run["metadata"]["cnn_book"] = {
        "cells_stamp": cells_stamp(clean),
        "library_stamp": library_stamp(),
        "cpu": cpu(),
    }
    target = EXECUTED / notebook.name
    save(target, run)
    render(target)
    print(f"  updated {target.relative_to(ROOT)} and its page")


# --- rendering ------------------------------------------------------------------------

def text_of(value):
    return "".join(value) if isinstance(value, list) else (value or "")


def fence(body, lang):
    """A fenced block that its own contents cannot close."""
    ticks = "```"
    while ticks in body:
        ticks += "`"
    return f"{ticks}{lang}\n{body.rstrip()}\n{ticks}\n"


def rendered(executed):
    """The page of an executed notebook, and its images as {file name: bytes}."""
    nb = load(executed)
    slug = executed.stem
    meta = nb["metadata"].get("cnn_book", {})
    images = {}
    parts = []
    title_done = False
    for index, cell in enumerate(nb["cells"]):
        source = text_of(cell["source"]).rstrip()
        if cell["cell_type"] == "markdown":
            if not title_done and source.startswith("# "):
                heading, _, rest = source.partition("\n")
                # "# 7. Pooling" -> "# Notebook 7: Pooling"
                parts.append(re.sub(r"^# (\d+)\. ", r"# Notebook \1: ", heading) + "\n")
                parts.append(
                    f"> This page is the notebook `notebooks/{slug}.ipynb` as it ran, outputs "
                    f"included, on {meta.get('cpu', 'an unrecorded CPU')}. A copy with "
                    f"these outputs is `notebooks/executed/{slug}.ipynb`; a repository "
                    "browser shows it as it is here. To run and change it yourself, see "
                    "[Run the notebooks](../how-to-use.md#run-the-notebooks).\n")
                source = rest.strip()
                title_done = True
            if source:
                parts.append(source + "\n")
            continue
        if cell["cell_type"] != "code":
            continue
        parts.append(fence(source, "rust,ignore"))
        stream = ""
        for k, output in enumerate(cell.get("outputs", [])):
            kind = output["output_type"]
            if kind == "stream":
                stream += text_of(output.get("text"))
                continue
            if stream.strip():
                parts.append(fence(stream, "text"))
            stream = ""
            data = output.get("data", {})
            if "image/png" in data:
                name = f"cell{index:02}-{k}.png"
                images[name] = base64.b64decode(text_of(data["image/png"]))
                parts.append(f"![output of the cell above]({slug}/{name})\n")
            elif "image/svg+xml" in data:
                name = f"cell{index:02}-{k}.svg"
                images[name] = text_of(data["image/svg+xml"]).encode()
                parts.append(f"![output of the cell above]({slug}/{name})\n")
            elif "text/plain" in data:
                parts.append(fence(text_of(data["text/plain"]), "text"))
            elif kind == "error":
                parts.append(fence(f"{output.get('ename')}: {output.get('evalue')}", "text"))
        if stream.strip():
            parts.append(fence(stream, "text"))
    if not title_done:
        sys.exit(f"{executed}: the first markdown cell should start with a '# ' title")
    # Where the chapter's exercises are, so that a reader of the page finds them.
    checker = "ch" + slug.replace("-", "_")
    if not (ROOT / "book" / f"{slug}.md").is_file() or not (
            ROOT / "exercises" / "tests" / f"{checker}.rs").is_file():
        sys.exit(f"{executed}: no chapter book/{slug}.md or checker exercises/tests/{checker}.rs")
    parts.append("## Exercises\n")
    parts.append(f"The exercises of this notebook's chapter are at the end of "
                 f"[the chapter](../{slug}.md#exercises); check the programming ones with\n")
    parts.append(fence(f"cargo test -p cnn-book-exercises --test {checker}", "text"))
    return "\n".join(parts), images


def render(executed):
    page, images = rendered(executed)
    slug = executed.stem
    PAGES.mkdir(parents=True, exist_ok=True)
    (PAGES / f"{slug}.md").write_text(page, encoding="utf-8")
    folder = PAGES / slug
    folder.mkdir(exist_ok=True)
    for old in folder.iterdir():
        if old.name not in images:
            old.unlink()
    for name, data in images.items():
        (folder / name).write_bytes(data)


# --- checking -------------------------------------------------------------------------

def check():
    problems = []
    library = library_stamp()
    notebooks = sorted(NOTEBOOKS.glob("*.ipynb"))
    for notebook in notebooks:
        name = notebook.name
        executed = EXECUTED / name
        if not executed.is_file():
            problems.append(f"{name}: no executed copy; run {FIX} {notebook.relative_to(ROOT)}")
            continue
        clean, run = load(notebook), load(executed)
        meta = run["metadata"].get("cnn_book", {})
        if cells_of(clean) != cells_of(run) or meta.get("cells_stamp") != cells_stamp(clean):
            problems.append(f"{name}: its cells changed since it was executed; "
                            f"run {FIX} {notebook.relative_to(ROOT)}")
        elif meta.get("library_stamp") != library:
            problems.append(f"{name}: the library changed since it was executed, so its "
                            f"outputs may be stale; run {FIX} {notebook.relative_to(ROOT)}")
        page, images = rendered(executed)
        slug = executed.stem
        page_path = PAGES / f"{slug}.md"
        if not page_path.is_file() or page_path.read_text(encoding="utf-8") != page:
            problems.append(f"{name}: book/notebooks/{slug}.md differs from its executed "
                            "copy; run python3 .ci/notebooks.py render")
        folder = PAGES / slug
        on_disk = {p.name: p.read_bytes() for p in folder.iterdir()} if folder.is_dir() else {}
        if on_disk != images:
            problems.append(f"{name}: the images in book/notebooks/{slug}/ differ from its "
                            "executed copy; run python3 .ci/notebooks.py render")
    extra = {p.name for p in EXECUTED.glob("*.ipynb")} - {p.name for p in notebooks}
    problems += [f"notebooks/executed/{n}: no such notebook in notebooks/" for n in sorted(extra)]
    for p in problems:
        print(f"  - {p}")
    if problems:
        sys.exit(f"executed notebooks: {len(problems)} problems")
    print(f"executed notebooks: all {len(notebooks)} current, with their pages")


def main():
    args = sys.argv[1:]
    if args[:1] == ["update"] and len(args) == 3:
        update(args[1], args[2])
    elif args == ["check"]:
        check()
    elif args == ["render"]:
        for executed in sorted(EXECUTED.glob("*.ipynb")):
            render(executed)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
