"""`platform` must stay the standard library's module: a platform/__init__.py would shadow it."""

import platform
import sysconfig
from pathlib import Path


def test_platform_resolves_to_the_standard_library():
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    assert Path(platform.__file__).resolve().parent == stdlib
    assert callable(platform.python_version)


def test_repository_platform_folder_is_not_a_package(repo_root):
    assert (repo_root / "platform" / "kyodo" / "__init__.py").exists()
    assert not (repo_root / "platform" / "__init__.py").exists()
