"""Copies public Stack Exchange data dumps (Posts.xml, Users.xml) into .data/stackexchange/.

The cross-person benchmark (bench/cross_person.py, docs/benchmarks/cross-person.md) reads
them from there at run time; the data never enters git (.data/ is ignored). Each site's
files come from a public GitHub repository that committed the site's dump, pinned to a
commit; a bare mirror of that repository must be on this machine (the session's ``fetch``
tool puts it under /work/.mirror/<owner>+<name>/, or ``--clone`` runs ``git clone``).
Each site folder gets a provenance.json: repository, commit, path, blob, sha256, and the
licence of the posts (Stack Exchange content is CC BY-SA: 3.0 for posts created before
2018-05-02, 4.0 from then; a ``ContentLicense`` attribute, where the dump has one, wins).

    .venv/bin/python scripts/xbench/fetch_stackexchange.py [--mirror /work/.mirror] [--clone]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / ".data" / "stackexchange"
DEFAULT_MIRROR = Path("/work/.mirror")
# Posts created before this are CC BY-SA 3.0, from it 4.0 (Stack Exchange's licence change).
LICENCE_CHANGE = "2018-05-02"


@dataclass(frozen=True)
class Source:
    site: str
    repo: str
    commit: str
    posts: str
    users: str | None = None


# Small-to-medium main (not meta) sites with enough answerers; cardano and beer are kept
# for an outside check and must not be added here.
SOURCES = (
    Source(
        "matheducators",
        "jrfoster/spark-intro",
        "d242829803d27f4fca6a03065fd85749f505dbef",
        "Posts.xml",
    ),
    Source(
        "quantumcomputing",
        "Jean-Low/StackERedes",
        "b6ea69d57d00b90370d0b6f89fae522ffebf6a6e",
        "data/Posts.xml",
        "data/Users.xml",
    ),
    Source(
        "ai",
        "sasiddiqui/confucius",
        "893604f757d3433cebb44aed241238f01487b190",
        "data/stackexchange/ai.stackexchange.com/Posts.xml",
        "data/stackexchange/ai.stackexchange.com/Users.xml",
    ),
)
EXCLUDED_SITES = frozenset({"cardano", "beer"})


def git_dir(mirror: Path, repo: str) -> Path | None:
    base = mirror / repo.replace("/", "+") / "repo"
    for candidate in (base / ".git", base):
        if (candidate / "objects").is_dir():
            return candidate
    return None


def clone(mirror: Path, repo: str) -> Path:
    target = mirror / repo.replace("/", "+") / "repo"
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["git", "clone", "--bare", f"https://github.com/{repo}.git", str(target)], check=True
    )
    return target


def git_show(directory: Path, commit: str, path: str) -> bytes:
    return subprocess.run(
        ["git", f"--git-dir={directory}", "show", f"{commit}:{path}"],
        check=True,
        capture_output=True,
    ).stdout


def blob_id(directory: Path, commit: str, path: str) -> str:
    return subprocess.run(
        ["git", f"--git-dir={directory}", "rev-parse", f"{commit}:{path}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def licences(posts: bytes) -> dict[str, int]:
    """Posts per licence: the dump's ContentLicense where given, else by creation date."""
    counts: Counter[str] = Counter()
    for row in re.finditer(rb"<row [^>]*>", posts):
        text = row.group(0)
        stated = re.search(rb'ContentLicense="([^"]+)"', text)
        if stated:
            counts[stated.group(1).decode()] += 1
            continue
        created = re.search(rb'CreationDate="([0-9-]{10})', text)
        day = created.group(1).decode() if created else ""
        counts["CC BY-SA 3.0" if day < LICENCE_CHANGE else "CC BY-SA 4.0"] += 1
    return dict(sorted(counts.items()))


def copy_site(source: Source, directory: Path, out: Path) -> dict[str, object]:
    site_dir = out / source.site
    site_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, object] = {}
    posts = b""
    for name, path in (("Posts.xml", source.posts), ("Users.xml", source.users)):
        if path is None:
            continue
        data = git_show(directory, source.commit, path)
        (site_dir / name).write_bytes(data)
        files[name] = {
            "path": path,
            "blob": blob_id(directory, source.commit, path),
            "sha256": hashlib.sha256(data).hexdigest(),
            "bytes": len(data),
        }
        if name == "Posts.xml":
            posts = data
    provenance = {
        "site": f"{source.site}.stackexchange.com",
        "repository": f"https://github.com/{source.repo}",
        "commit": source.commit,
        "files": files,
        "licence": "CC BY-SA (Stack Exchange user contributions; attribution to the site "
        "and the post's author as the dump records them)",
        "licence_by_posts": licences(posts),
        "licence_rule": f"CC BY-SA 3.0 before {LICENCE_CHANGE}, CC BY-SA 4.0 from then, "
        "unless the row states its ContentLicense",
        "note": "Public data dump committed in a third-party repository; not redistributed "
        "by Convene (kept in an ignored folder, read at run time).",
    }
    (site_dir / "provenance.json").write_text(json.dumps(provenance, indent=2) + "\n")
    return provenance


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, default=DEFAULT_MIRROR)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--clone", action="store_true", help="git clone missing mirrors")
    args = parser.parse_args()
    missing = 0
    for source in SOURCES:
        assert source.site not in EXCLUDED_SITES
        directory = git_dir(args.mirror, source.repo)
        if directory is None and args.clone:
            directory = clone(args.mirror, source.repo)
        if directory is None:
            print(  # noqa: T201
                f"{source.site}: no mirror of {source.repo} under {args.mirror} (fetch "
                f"github:{source.repo}, or rerun with --clone)",
                file=sys.stderr,
            )
            missing += 1
            continue
        provenance = copy_site(source, directory, args.out)
        print(f"{source.site}: {provenance['licence_by_posts']} -> {args.out / source.site}")  # noqa: T201
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
