# Copyright: image-delivery contributors
# Apache License 2.0
"""Scan an image folder into catalog entries, incrementally.

A cache maps each relative path to the signature of the files it was built from (the image's and
its sidecar's size and mtime) and to the result: an entry, kept as its snapshot line with the
id, sha256 and perceptual hash a scan needs of it, or the reason it was skipped. A file whose
signature did not change is neither read nor decoded again, and its entry is not parsed: at a
million images a scan handles lines, and only the changed entries as objects.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import marshal
import os
import re
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ansible_collections.image_delivery.stack.plugins.module_utils.catalog_schema import (
    FORMATS,
    content_key,
    focus_text,
    image_id_for,
    normalise_tags,
    orientation_of,
    parse_json_line,
    snapshot_line,
    text_tokens,
)
from ansible_collections.image_delivery.stack.plugins.module_utils.image_inspect import (
    ImageFacts,
    ImageRejected,
    inspect_image,
)
from ansible_collections.image_delivery.stack.plugins.module_utils.local_files import read_bytes, write_atomically


def _default_yaml_loader() -> Callable[[str], object]:
    try:
        import yaml  # ships with ansible-core

        return yaml.safe_load
    except ImportError:
        return json.loads


DEFAULT_INCLUDE = ["*.jpg", "*.jpeg", "*.png", "*.webp", "*.gif"]
DEFAULT_EXCLUDE = [".*", "*/.*"]
SIDECAR_SUFFIXES = (".yml", ".yaml", ".json")
# 2: entries carry their palette's colour names and a perceptual hash; 3: a placeholder; 4: a focus;
# 5: an entry kept as its snapshot line, with its id, sha256 and phash
CACHE_FORMAT = 5
LEGACY_CACHE_FORMATS = (4,)  # an earlier release's JSON cache, converted when read (convert_legacy_cache)


@dataclass
class ScanResult:
    lines: dict[str, str]  # image id -> its entry's snapshot line, in the order of the paths
    skipped: list[dict]  # {"path", "reason"}
    duplicates: list[list[str]]  # groups of image ids with identical bytes
    cache: dict  # the cache to store for the next scan
    stats: dict = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)  # image id -> perceptual hash ("" when unknown)
    shas: dict[str, str] = field(default_factory=dict)  # image id -> sha256 of its file
    indexed: set[str] = field(default_factory=set)  # paths read and decoded by this scan
    # the cache's records this scan did not reuse (of the paths it indexed, and of the paths gone)
    replaced: dict[str, dict] = field(default_factory=dict)
    collisions: int = 0  # entries left out because an earlier path took their id

    @property
    def entries(self) -> list[dict]:
        """Every entry as a dict, in the order of the paths (parses every line: for small folders)."""
        return [parse_json_line(line.encode("utf-8")) for line in self.lines.values()]


def _pattern(patterns: Iterable[str]) -> re.Pattern:
    """One regular expression matching, case-insensitively, what any of the fnmatch patterns does."""
    return re.compile("|".join(fnmatch.translate(p.lower()) for p in patterns) or "(?!)")


def matches(relative_path: str, include: Iterable[str], exclude: Iterable[str]) -> bool:
    """Case-insensitive fnmatch on the "/" separated relative path ("*" also matches "/")."""
    lowered = relative_path.lower()
    return bool(_pattern(include).match(lowered)) and not _pattern(exclude).match(lowered)


def select(paths: Iterable[str], include: Iterable[str], exclude: Iterable[str]) -> list[str]:
    """The sorted paths that matches() selects (the patterns compiled once)."""
    wanted, unwanted = _pattern(include).match, _pattern(exclude).match
    chosen = []
    for path in paths:
        lowered = path.lower()
        if wanted(lowered) and not unwanted(lowered):
            chosen.append(path)
    return sorted(chosen)


def list_files(root: Path) -> dict[str, str]:
    """Every regular file under root (symlinks not followed) -> its size and mtime_ns, as the text
    "<size>\t<mtime_ns>" that signatures are made of (compared as one string), one stat each."""
    found: dict[str, str] = {}
    folders = [(root, "")]
    while folders:
        folder, prefix = folders.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                relative = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    folders.append((Path(entry.path), relative + "/"))
                elif entry.is_file(follow_symlinks=False):
                    stat = entry.stat(follow_symlinks=False)
                    found[relative] = f"{stat.st_size}\t{stat.st_mtime_ns}"
    return found


def list_files_ahead(root: Path) -> Callable[[], dict[str, str]]:
    """Start list_files(root) in a forked process, for the caller to read its cache meanwhile; the
    function returned waits for the listing. A million stat calls are mostly the kernel's time:
    in a thread they would hold up the caller's parsing at each return for the GIL, in a process
    they run beside it. Without fork, or when the child fails, the listing is made when asked for
    (so an error in it is raised where list_files raises it)."""
    if not hasattr(os, "fork"):
        return lambda: list_files(root)
    reader, writer = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns that forking a process with threads (Mitogen's broker and pool, where
        # the module runs in Mitogen's interpreter) can deadlock a child that takes a lock another
        # thread held. This child takes none: it lists, marshals and writes to a pipe, imports
        # nothing, collects no garbage, and leaves with os._exit.
        warnings.simplefilter("ignore", DeprecationWarning)
        child = os.fork()
    if child == 0:  # pragma: no cover - the child: list, send, and leave without the parent's exit handlers
        status = 1
        try:
            os.close(reader)
            with os.fdopen(writer, "wb") as parent:
                parent.write(marshal.dumps(list_files(root)))
            status = 0
        finally:
            os._exit(status)
    os.close(writer)

    def listing() -> dict[str, str]:
        with os.fdopen(reader, "rb") as incoming:
            data = incoming.read()  # all of it, or nothing when the child failed before writing
        try:
            failed = os.waitpid(child, 0)[1] != 0
        except ChildProcessError:  # reaped by a SIGCHLD handler of the host process: the data tells
            failed = False
        try:
            return list_files(root) if failed or not data else marshal.loads(data)
        except (EOFError, ValueError, TypeError):  # cut short
            return list_files(root)

    return listing


def find_images(root: Path, include: Iterable[str], exclude: Iterable[str]) -> list[str]:
    """Sorted relative paths of the files under root that the patterns select."""
    return select(list_files(root), include, exclude)


def sidecar_of(relative: str, files: Mapping[str, str]) -> str | None:
    """The relative path of an image's sidecar (<stem>.yml, .yaml or .json) among the listed files."""
    stem = relative.rsplit(".", 1)[0]
    return next((stem + suffix for suffix in SIDECAR_SUFFIXES if stem + suffix in files), None)


def parse_sidecar(text: str, suffix: str, load_yaml: Callable[[str], object]) -> dict:
    """Title, description and tags from a sidecar's text; ValueError with a reason when malformed."""
    data = json.loads(text) if suffix == ".json" else load_yaml(text)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError("a sidecar must be a mapping with title, description, tags and focus")
    unknown = sorted(set(data) - {"title", "description", "tags", "focus"})
    if unknown:
        raise ValueError(f"unknown sidecar keys {unknown}; allowed: title, description, tags, focus")
    tags = data.get("tags", [])
    if isinstance(tags, str):
        tags = [tag for tag in tags.split(",")]
    if not isinstance(tags, list) or not all(isinstance(tag, (str, int)) for tag in tags):
        raise ValueError("sidecar tags must be a list of words or a comma-separated string")
    for key in ("title", "description"):
        if not isinstance(data.get(key, ""), str):
            raise ValueError(f"sidecar {key} must be a string")
    return {
        "title": data.get("title", ""),
        "description": data.get("description", ""),
        "tags": [str(t) for t in tags],
        "focus": parse_focus(data.get("focus")),
    }


def parse_focus(value: object) -> str:
    """A sidecar's focal point, [x, y] in 0..1 of the image as displayed (0, 0 top left), as the
    catalog's "x,y" text; "" without one. ValueError with a reason when malformed."""
    if value is None:
        return ""
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(n, (int, float)) and not isinstance(n, bool) and 0 <= n <= 1 for n in value)
    ):
        raise ValueError(f"sidecar focus must be [x, y] with both between 0 and 1, got {value!r}")
    return focus_text(float(value[0]), float(value[1]))


def humanised_title(relative_path: str) -> str:
    stem = Path(relative_path).stem
    words = " ".join(text_tokens_keep_all(stem))
    return words[:1].upper() + words[1:]


def text_tokens_keep_all(text: str) -> list[str]:
    """Words of a file name for a title: separators become spaces, nothing dropped."""
    return [word for word in "".join(c if c.isalnum() else " " for c in text).split() if word]


def build_entry(relative_path: str, data: bytes, facts: ImageFacts, sidecar: Mapping) -> dict:
    """One catalog entry from the file's bytes, its inspected facts and its sidecar."""
    image_id = image_id_for(relative_path)
    sha256 = hashlib.sha256(data).hexdigest()
    path_words = text_tokens(relative_path.rsplit(".", 1)[0])
    description = sidecar.get("description") or facts.description
    title = sidecar.get("title") or facts.title or facts.description or humanised_title(relative_path)
    tags = normalise_tags([*path_words, *sidecar.get("tags", []), *text_tokens(description), *facts.keywords])
    return {
        "image_id": image_id,
        "name": relative_path.rsplit("/", 1)[-1],
        "path": relative_path,
        "title": title.strip(),
        "tags": tags,
        "sha256": sha256,
        "key": content_key(sha256, image_id, facts.format),
        "content_type": FORMATS[facts.format][1],
        "format": facts.format,
        "width": facts.width,
        "height": facts.height,
        "orientation": orientation_of(facts.width, facts.height),
        "bytes": len(data),
        "colour": facts.colour,
        "colours": facts.colours,
        "phash": facts.phash,
        "placeholder": facts.placeholder,
        "focus": sidecar.get("focus", ""),
    }


def signature_of(relative: str, files: Mapping[str, str]) -> str:
    """What a cached record is valid for: the image's size and mtime, and its sidecar's path, size
    and mtime ("", 0, 0 without one), as the five tab-separated fields of the cache file."""
    return _signature(relative, sidecar_of(relative, files), files)


NO_SIDECAR = "\t\t0\t0"  # a signature's sidecar fields without one


def _signature(relative: str, sidecar: str | None, files: Mapping[str, str]) -> str:
    if sidecar is None:
        return files[relative] + NO_SIDECAR
    return f"{files[relative]}\t{_text(sidecar)}\t{files[sidecar]}"


def _sidecars_by_stem(files: Mapping[str, str]) -> dict[str, str]:
    """Each stem's sidecar (the first of SIDECAR_SUFFIXES), as sidecar_of finds it, for every file."""
    found: dict[str, str] = {}
    for suffix in reversed(SIDECAR_SUFFIXES):
        for relative in files:
            if relative.endswith(suffix):
                found[relative[: -len(suffix)]] = relative
    return found


def _index_one(root: Path, relative: str, files: Mapping, max_pixels: int, load_yaml: Callable) -> dict:
    """The cache record of one file: its signature plus an entry or a skip reason."""
    record: dict = {"signature": signature_of(relative, files)}
    sidecar = sidecar_of(relative, files)
    try:
        data = (root / relative).read_bytes()
    except OSError as error:
        record["skipped"] = f"unreadable: {error.strerror or error}"
        return record
    try:
        details = {}
        if sidecar is not None:
            suffix = "." + sidecar.rsplit(".", 1)[1]
            try:
                details = parse_sidecar((root / sidecar).read_text(encoding="utf-8"), suffix, load_yaml)
            except Exception as error:  # any parse error (JSON, YAML, encoding) is the sidecar's fault
                raise ImageRejected(f"sidecar {sidecar.rsplit('/', 1)[-1]}: {error}") from None
        entry = build_entry(relative, data, inspect_image(data, max_pixels), details)
        record.update(line=snapshot_line(entry), id=entry["image_id"], sha256=entry["sha256"], phash=entry["phash"])
    except ImageRejected as rejected:
        record["skipped"] = str(rejected)
    return record


def scan(
    root: Path,
    include: Iterable[str] = DEFAULT_INCLUDE,
    exclude: Iterable[str] = DEFAULT_EXCLUDE,
    max_pixels: int = 64_000_000,
    cache: Mapping | None = None,
    workers: int = 0,
    load_yaml: Callable[[str], object] | None = None,
    files: Mapping[str, str] | None = None,
) -> ScanResult:
    """Index every selected image under root, reusing cached records whose signature still matches
    (files: list_files(root), when listed ahead)."""
    load_yaml = load_yaml or _default_yaml_loader()
    cached = (cache or {}).get("files", {}) if (cache or {}).get("format") == CACHE_FORMAT else {}
    files = list_files(root) if files is None else files
    paths = select(files, include, exclude)
    sidecars = _sidecars_by_stem(files)
    records: dict[str, dict] = {}
    to_index = []
    replaced: dict[str, dict] = {}
    for relative in paths:
        previous = cached.get(relative)
        if sidecars:
            signature = _signature(relative, sidecars.get(relative.rsplit(".", 1)[0]), files)
        else:  # no sidecar in the folder (the signature without a stem to look up)
            signature = files[relative] + NO_SIDECAR
        records[relative] = previous  # in the order of the paths; a record indexed again takes its place
        if previous is None:
            to_index.append(relative)
        elif previous["signature"] != signature:
            to_index.append(relative)
            replaced[relative] = previous
    if len(records) - len(to_index) + len(replaced) < len(cached):  # some cached paths are gone (or no longer selected)
        replaced.update((relative, cached[relative]) for relative in cached.keys() - records.keys())
    with ThreadPoolExecutor(max_workers=workers or min(8, (os.cpu_count() or 1) + 1)) as pool:
        indexed = pool.map(lambda rel: _index_one(root, rel, files, max_pixels, load_yaml), to_index)
        for relative, record in zip(to_index, indexed, strict=True):
            records[relative] = record
    kept = kept_records(records)
    return ScanResult(
        lines=kept.lines,
        skipped=kept.skipped,
        duplicates=duplicate_groups(kept.shas),
        cache={"format": CACHE_FORMAT, "files": records, "collisions": kept.collisions},
        stats={"files": len(paths), "indexed": len(to_index), "from_cache": len(paths) - len(to_index)},
        hashes=kept.hashes,
        shas=kept.shas,
        indexed=set(to_index),
        replaced=replaced,
        collisions=kept.collisions,
    )


def duplicate_groups(shas: Mapping[str, str]) -> list[list[str]]:
    """Groups of ids with the same sha256, each sorted, sorted (the sha256 counted first: at a
    million ids, grouping them all would build a list for each)."""
    repeated = {sha256 for sha256, count in Counter(shas.values()).items() if count > 1}
    if not repeated:
        return []
    by_content: dict[str, list[str]] = {}
    for image_id, sha256 in shas.items():
        if sha256 in repeated:
            by_content.setdefault(sha256, []).append(image_id)
    return sorted(sorted(ids) for ids in by_content.values())


@dataclass
class Kept:
    """The entries a scan keeps of its records, by image id, in the order of the paths."""

    lines: dict[str, str] = field(default_factory=dict)  # snapshot lines
    hashes: dict[str, str] = field(default_factory=dict)  # perceptual hashes
    shas: dict[str, str] = field(default_factory=dict)  # sha256 of the files
    skipped: list[dict] = field(default_factory=list)  # {"path", "reason"}
    collisions: int = 0  # entries left out because an earlier path took their id


def kept_records(records: Mapping[str, Mapping]) -> Kept:
    """The entries kept of records given in the order of their paths: the first path of an id wins,
    the others and the records of skipped files are reported as skipped."""
    kept = Kept()
    lines, hashes, shas, skipped = kept.lines, kept.hashes, kept.shas, kept.skipped
    owners: dict[str, str] | None = None  # each id's first path, found once an id is taken twice
    for relative, record in records.items():
        if "skipped" in record:
            skipped.append({"path": relative, "reason": record["skipped"]})
            continue
        image_id = record["id"]
        if image_id in lines:
            if owners is None:
                owners = {}
                for path, other in records.items():
                    if "id" in other:
                        owners.setdefault(other["id"], path)
            skipped.append({"path": relative, "reason": f"image_id {image_id!r} is already used by {owners[image_id]}"})
            kept.collisions += 1
            continue
        lines[image_id] = record["line"]
        hashes[image_id] = record["phash"]
        shas[image_id] = record["sha256"]
    return kept


# The cache file: a JSON header line, then one line a record, its fields separated by tabs: the
# path, the signature's five fields, then "e" and the entry's id, sha256, phash and snapshot line
# (JSON, which never holds a raw tab or newline), or "s" and the skip reason as JSON. A path (or
# sidecar path) holding a tab or a newline, or starting with a quote or a brace, is written as
# JSON. A million records read and write in a few seconds, where the same as one JSON document
# took twenty. A run that changed a few records appends them to a journal (journal_text: a header
# line, then the changed records, and a path with "-" for one removed) instead of writing the
# million again; the reader applies the journal's blocks in order.


def _text(path: str) -> str:
    if "\t" in path or "\n" in path or path.startswith(('"', "{")):
        return json.dumps(path)
    return path


def _path(text: str) -> str:
    return json.loads(text) if text.startswith('"') else text


def _header(cache: Mapping) -> str:
    header = {
        "format": cache.get("format", CACHE_FORMAT),
        "version": cache.get("version", ""),
        "near_duplicates": cache.get("near_duplicates", []),
    }
    if "collisions" in cache:  # known only when a scan made the records
        header["collisions"] = cache["collisions"]
    return json.dumps(header)


def _record_line(relative: str, record: Mapping) -> str:
    fields = f"{_text(relative)}\t{record['signature']}"
    if "skipped" in record:
        return f"{fields}\ts\t{json.dumps(record['skipped'])}"
    return f"{fields}\te\t{record['id']}\t{record['sha256']}\t{record['phash']}\t{record['line']}"


def cache_text(cache: Mapping) -> str:
    """The cache as the text of its file (see read_cache_text)."""
    lines = [_header(cache)]
    lines += [_record_line(relative, record) for relative, record in cache.get("files", {}).items()]
    return "\n".join(lines) + "\n"


def journal_text(cache: Mapping, paths: Iterable[str]) -> str:
    """A journal block: the cache's header, and the records of these paths (removed when the
    cache no longer has them), to append to the text of an earlier state of the cache."""
    files = cache.get("files", {})
    lines = [_header(cache)]
    lines += [_record_line(p, files[p]) if p in files else f"{_text(p)}\t-" for p in sorted(paths)]
    return "\n".join(lines) + "\n"


def read_cache_text(text: str) -> dict:
    """The cache a cache_text wrote, with any journal blocks after it applied; an empty cache when
    the text is not one of this format (a damaged or older cache only costs a full scan)."""
    files: dict[str, dict] = {}
    header: dict = {}
    try:
        for line in text.split("\n"):
            if not line:
                continue
            if line.startswith("{"):
                header = json.loads(line)
                if not isinstance(header, dict) or header.get("format") != CACHE_FORMAT:
                    return {}
                continue
            if not header:
                return {}
            fields = line.split("\t", 10)
            if fields[1] == "-":
                files.pop(_path(fields[0]), None)
                continue
            signature = f"{fields[1]}\t{fields[2]}\t{fields[3]}\t{fields[4]}\t{fields[5]}"
            if fields[6] == "e":
                files[_path(fields[0])] = {
                    "signature": signature, "id": fields[7], "sha256": fields[8], "phash": fields[9], "line": fields[10]
                }  # fmt: skip
            elif fields[6] == "s":
                files[_path(fields[0])] = {"signature": signature, "skipped": json.loads(fields[7])}
            else:
                return {}
    except (ValueError, IndexError, TypeError):
        return {}
    if not header:
        return {}
    near = header.get("near_duplicates", [])
    if not isinstance(near, list) or not all(isinstance(pair, list) and len(pair) == 3 for pair in near):
        near = None
    cache = {"format": CACHE_FORMAT, "version": str(header.get("version", "")), "files": files}
    collisions = header.get("collisions")
    if type(collisions) is int and collisions >= 0:
        cache["collisions"] = collisions
    return cache if near is None else {**cache, "near_duplicates": near}


JOURNAL_SHARE = 10  # the journal is folded into the cache once it holds a tenth of its records


def read_cache(path: str | None) -> dict:
    """The cache and its journal (see image_scan.read_cache_text); without one, an earlier
    release's JSON cache beside it (<stem>.json), converted, so an upgrade indexes nothing again."""
    if not path:
        return {}
    try:
        if not os.path.exists(path):
            legacy = os.path.splitext(path)[0] + ".json"
            data = read_bytes(legacy) if legacy != path else None
            return convert_legacy_cache(json.loads(data)) if data else {}
        text = read_bytes(path).decode("utf-8")
        journal = read_bytes(path + ".journal")
        return read_cache_text(text + (journal.decode("utf-8") if journal else ""))
    except (OSError, ValueError):
        return {}  # a damaged cache only costs a full scan


def convert_legacy_cache(document: object) -> dict:
    """An earlier release's cache (format 4: one JSON document, each record's signature as
    [[size, mtime], null or [sidecar, size, mtime]] and its entry as a dict) in this format, its
    version unknown (the first publish compares every entry with the published snapshot). An
    empty cache when it is not one."""
    if not isinstance(document, dict) or document.get("format") not in LEGACY_CACHE_FORMATS:
        return {}
    files: dict[str, dict] = {}
    try:
        for relative, record in document["files"].items():
            (size, mtime), sidecar = record["signature"]
            if sidecar is None:
                signature = f"{size}\t{mtime}{NO_SIDECAR}"
            else:
                signature = f"{size}\t{mtime}\t{_text(sidecar[0])}\t{sidecar[1]}\t{sidecar[2]}"
            if "entry" in record:
                entry = record["entry"]
                line = snapshot_line(entry)
                files[relative] = {
                    "signature": signature, "id": entry["image_id"], "sha256": entry["sha256"],
                    "phash": entry["phash"], "line": line,
                }  # fmt: skip
            else:
                files[relative] = {"signature": signature, "skipped": str(record["skipped"])}
    except (KeyError, TypeError, ValueError, AttributeError):
        return {}
    return {"format": CACHE_FORMAT, "version": "", "files": files}


def write_cache(path: str, cache: dict, previous: dict, indexed: set[str]) -> None:
    """Append the records this run changed to the cache's journal, or, when there was no cache to
    append to or the journal has grown to JOURNAL_SHARE of it, write the whole cache (and no journal)."""
    files, before = cache["files"], previous.get("files")
    journal = read_bytes(path + ".journal") or b""
    if before is not None and os.path.exists(path):
        changed = indexed | (before.keys() - files.keys())
        block = journal_text(cache, changed).encode("utf-8")
        if (len(journal) + len(block)) * JOURNAL_SHARE < os.path.getsize(path):
            write_atomically(path + ".journal", journal + block)
            return
    write_atomically(path, cache_text(cache).encode("utf-8"))
    if journal:
        os.remove(path + ".journal")
