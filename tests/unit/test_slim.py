"""The deployment package as slimmed for the cloud: the runtime's SDK is not shipped twice, our
own packages and the app stay, and bytecode for the functions' python3.11 is included."""
import importlib.util
import sys
import zipfile

import pytest

from infra.slim import recorded, slim

PACKAGE = {
    "app.py": "ANSWER = 42\n\ndef handler(event, context):\n    return ANSWER\n",
    "botocore/__init__.py": "__version__ = '0.0.0'\n",
    "botocore/client.py": "class BaseClient:\n    pass\n",
    "botocore-1.44.8.dist-info/METADATA": "Name: botocore\nVersion: 1.44.8\n",
    "urllib3/__init__.py": "",
    "pynamodb/__init__.py": "__version__ = '6.1.0'\n",
    "pynamodb/models.py": "class Model:\n    pass\n",
    "pynamodb-6.1.0.dist-info/METADATA": "Name: pynamodb\nVersion: 6.1.0\n",
    "dateutil/__init__.py": "",
    "python_dateutil-2.9.0.post0.dist-info/METADATA": "Name: python-dateutil\n",
    "chalicelib/web/index.html": "<!doctype html>\n",
    "jieba/__init__.py": "",
    "jieba/dict.txt": "的 318825 uj\n",
    "jieba/finalseg/__init__.py": "",
    "jieba/posseg/__init__.py": "",
    "jieba/analyse/tfidf.py": "",
    "jieba/lac_small/model_baseline/crf": "",
}


@pytest.fixture
def package(tmp_path):
    path = tmp_path / "deployment.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in PACKAGE.items():
            z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), text)
    return path


def names(path):
    with zipfile.ZipFile(path) as z:
        return set(z.namelist())


def test_the_runtime_provided_sdk_goes_and_our_own_packages_stay(package):
    figures = slim(package)
    kept = names(package)
    assert not any(n.startswith(("botocore", "urllib3")) for n in kept), kept
    assert {"app.py", "pynamodb/__init__.py", "pynamodb/models.py",
            "pynamodb-6.1.0.dist-info/METADATA", "chalicelib/web/index.html"} <= kept
    # holidays needs a newer python-dateutil than some runtimes carry: it is kept.
    assert {"dateutil/__init__.py", "python_dateutil-2.9.0.post0.dist-info/METADATA"} <= kept
    assert figures["files_dropped"] == 7
    assert figures["dropped"] == {"botocore": 3, "jieba/analyse": 1, "jieba/lac_small": 1,
                                  "jieba/posseg": 1, "urllib3": 1}
    # the guide's segmenter stays: its code, dictionary and HMM; its unused parts go
    assert {"jieba/__init__.py", "jieba/dict.txt", "jieba/finalseg/__init__.py"} <= kept
    assert figures["bytes_after"] == package.stat().st_size


@pytest.mark.skipif(sys.implementation.cache_tag != "cpython-311",
                    reason="bytecode is added only by the functions' own Python version")
def test_bytecode_is_added_next_to_the_sources_and_loads(package, tmp_path):
    figures = slim(package)
    assert figures["pyc_added"] == 6      # every .py kept: app, pynamodb's, dateutil's, jieba's
    assert {"__pycache__/app.cpython-311.pyc", "pynamodb/__pycache__/models.cpython-311.pyc",
            "app.py"} <= names(package)
    unpacked = tmp_path / "task"
    with zipfile.ZipFile(package) as z:
        z.extractall(unpacked)
    (unpacked / "app.py").write_text("raise SystemExit('the source was compiled instead')\n")
    spec = importlib.util.spec_from_file_location("packaged_app", unpacked / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)    # unchecked hash-based bytecode: the .pyc is what runs
    assert module.handler({}, None) == 42
    code = (unpacked / "__pycache__" / "app.cpython-311.pyc").read_bytes()
    assert code[:4] == importlib.util.MAGIC_NUMBER
    assert b"/var/task/app.py" in code


def test_slimming_twice_changes_nothing_and_the_zip_remembers_the_first(package):
    chalice_made = package.stat().st_size
    assert recorded(package) is None
    first = slim(package)
    before = names(package)
    again = slim(package)
    assert names(package) == before
    assert again["files_dropped"] == 0 and again["pyc_added"] == 0
    remembered = recorded(package)
    assert remembered["bytes_before"] == chalice_made
    assert remembered["bytes_after"] == package.stat().st_size
    assert remembered["dropped"] == first["dropped"]
    assert remembered["pyc_added"] == first["pyc_added"]
