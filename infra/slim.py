"""The deployment package as the cloud pays for it at cold start.

`chalice package` zips every runtime requirement with its whole dependency tree, so the package
carries a second copy of the AWS SDK that the Lambda python3.11 runtime already provides, and
only .py sources: each cold start of a function then compiles every module it imports. `slim()`
rewrites that zip: it drops what the runtime provides where that is safe and the parts of kept
packages that nothing imports, and adds bytecode
(`__pycache__/*.cpython-311.pyc`) next to the sources, which stay for tracebacks and reading."""
from __future__ import annotations

import importlib.util
import json
import os
import py_compile
import re
import sys
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

# Where Lambda unpacks the package: the bytecode names its sources there, as it would had the
# runtime compiled them itself (/var/task/chalicelib/..., never this machine's build folder).
TASK_ROOT = "/var/task"
# The functions' runtime (infra/resources.json, .chalice/config.json): bytecode is only added
# when this interpreter writes the same format (same cache tag, same magic number).
RUNTIME_CACHE_TAG = "cpython-311"

# Provided by the python3.11 runtime, by distribution: the import names each one installs.
# The runtime's boto3, botocore, s3transfer, jmespath and urllib3 are one consistent set;
# shipping our own botocore (pulled in by pynamodb) next to the runtime's boto3 would pair
# versions that were never released together, and our urllib3 2.x would shadow the one the
# runtime's botocore was installed with. What the kept packages ask of them, the runtime
# satisfies: pynamodb wants botocore>=1.12.54, aws-lambda-powertools jmespath>=1.0.1,<2 (1.0.1
# is from 2022; the python3.11 runtime came out in 2023); the app's S3 checksums need botocore
# 1.23 or later. boto3 itself (and s3transfer) is not a runtime requirement and comes from the
# runtime whether or not chalice packaged it.
RUNTIME_PROVIDED = {
    "boto3": ("boto3",),
    "botocore": ("botocore",),
    "s3transfer": ("s3transfer",),
    "jmespath": ("jmespath",),
    "urllib3": ("urllib3",),
}
# Kept although the runtime has a copy:
# - python-dateutil: holidays requires python-dateutil>=2.9.0.post0 (March 2024), newer than
#   the copy some python3.11 runtime builds and regions carry (it came out with 2.8.2);
# - six: the kept dateutil imports it, and the runtime carries six only as a dependency of its
#   own dateutil, not as a promise.


# Parts of a kept package that no function imports, dropped (about 18 MB of the zip): jieba's
# paddle model (lac_small, loaded only by jieba.enable_paddle), its part-of-speech tagger
# (posseg) and its keyword extraction (analyse). The guide's search (chalicelib/domain/search.py)
# imports jieba itself only; tests/unit/test_guide_search.py checks that a search leaves the
# three unimported.
UNUSED_PARTS = ("jieba/lac_small/", "jieba/posseg/", "jieba/analyse/")


def _distribution(top: str) -> str | None:
    """`botocore-1.44.8.dist-info` or `jmespath-1.1.0.data` → normalised distribution name."""
    match = re.fullmatch(r"(.+?)-[^-]+\.(dist-info|data)", top)
    return re.sub(r"[-_.]+", "_", match.group(1)).lower() if match else None


def _dropped_as(name: str) -> str | None:
    """The runtime-provided distribution an entry of the zip belongs to, or the unused part of
    a kept package, if any."""
    for part in UNUSED_PARTS:
        if name.startswith(part):
            return part.rstrip("/")
    top = PurePosixPath(name).parts[0]
    distribution = _distribution(top)
    if distribution is not None:
        return distribution if distribution in RUNTIME_PROVIDED else None
    module = top.removesuffix(".py")
    for distribution, modules in RUNTIME_PROVIDED.items():
        if module in modules:
            return distribution
    return None


def _entry(name: str, like: zipfile.ZipInfo) -> zipfile.ZipInfo:
    """A fresh entry with the date and permissions of `like` (writing an entry changes it)."""
    entry = zipfile.ZipInfo(name, date_time=like.date_time)
    entry.external_attr, entry.create_system = like.external_attr, like.create_system
    entry.compress_type = zipfile.ZIP_DEFLATED
    return entry


def slim(zip_path: Path) -> dict:
    """Rewrites `zip_path` in place; returns what it did (sizes in bytes). The zip's comment
    records it too, from chalice's package to this one (see `recorded`)."""
    zip_path = Path(zip_path)
    before = zip_path.stat().st_size
    compile_now = sys.implementation.cache_tag == RUNTIME_CACHE_TAG
    dropped: dict[str, int] = {}
    not_compiled: list[str] = []
    added = 0
    with zipfile.ZipFile(zip_path) as source, tempfile.TemporaryDirectory() as work:
        entries = source.infolist()
        names = {info.filename for info in entries}
        previous = _comment(source)
        unpacked_before = sum(info.file_size for info in entries)
        unpacked_after = 0
        out = zip_path.with_name(zip_path.name + ".slim")
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for info in entries:
                distribution = _dropped_as(info.filename)
                if distribution is not None:
                    dropped[distribution] = dropped.get(distribution, 0) + 1
                    continue
                data = source.read(info)
                target.writestr(_entry(info.filename, info), data)
                unpacked_after += len(data)
                if not (compile_now and info.filename.endswith(".py")):
                    continue
                pyc = importlib.util.cache_from_source(info.filename)
                if pyc in names:
                    continue      # slimmed before
                path = Path(work) / info.filename
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
                try:
                    # Unchecked hash-based bytecode: valid whatever mtimes the unpacked files
                    # get (the zip's are 1980-01-01), and never compared with its source at
                    # import: /var/task is read-only, so a stale check would only recompile
                    # in memory on every cold start.
                    written = py_compile.compile(
                        str(path), dfile=f"{TASK_ROOT}/{info.filename}", doraise=True,
                        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
                except py_compile.PyCompileError:
                    not_compiled.append(info.filename)
                    continue
                code = Path(written).read_bytes()
                target.writestr(_entry(pyc, info), code)
                unpacked_after += len(code)
                added += 1
            figures = {"bytes_before": before, "unpacked_bytes_before": unpacked_before,
                       "unpacked_bytes_after": unpacked_after,
                       "files_dropped": sum(dropped.values()),
                       "dropped": dict(sorted(dropped.items())), "pyc_added": added,
                       "not_compiled": not_compiled,
                       "bytecode": RUNTIME_CACHE_TAG if compile_now else
                       f"none: built with {sys.implementation.cache_tag}, the functions run "
                       f"{RUNTIME_CACHE_TAG}"}
            target.comment = json.dumps({"slimmed": _since(previous, figures)},
                                        separators=(",", ":")).encode()
        os.replace(out, zip_path)
    return {**figures, "bytes_after": zip_path.stat().st_size}


def recorded(zip_path: Path) -> dict | None:
    """What slimming did to this package since chalice made it (None if it was not slimmed):
    the figures of `slim`, with `bytes_before` chalice's size and `bytes_after` today's."""
    with zipfile.ZipFile(zip_path) as z:
        figures = _comment(z)
    return None if figures is None else {**figures, "bytes_after": Path(zip_path).stat().st_size}


def _comment(z: zipfile.ZipFile) -> dict | None:
    try:
        return json.loads(z.comment.decode())["slimmed"]
    except (ValueError, KeyError, TypeError):
        return None


def _since(previous: dict | None, now: dict) -> dict:
    """This slimming added to the ones before it, if the package was slimmed already."""
    if previous is None:
        return now
    dropped = dict(previous.get("dropped", {}))
    for name, n in now["dropped"].items():
        dropped[name] = dropped.get(name, 0) + n
    return {**now, "bytes_before": previous["bytes_before"],
            "unpacked_bytes_before": previous["unpacked_bytes_before"],
            "files_dropped": previous["files_dropped"] + now["files_dropped"],
            "dropped": dict(sorted(dropped.items())),
            "pyc_added": previous["pyc_added"] + now["pyc_added"],
            "not_compiled": sorted(set(previous.get("not_compiled", [])) |
                                   set(now["not_compiled"]))}


if __name__ == "__main__":
    print(json.dumps(slim(Path(sys.argv[1])), indent=2))
