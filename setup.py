"""Packaging hook: the installed distribution carries its data (see pyproject.toml for the rest).

The checkout keeps its user-chosen layout (settings*.yaml at the root, corpus/ beside assistant/);
a built wheel gets a copy of those files under assistant/_data, where the code looks when it does
not run from a checkout (assistant/paths.py: resource_root).
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

DATA = [
    "settings.yaml",
    "settings-test.yaml",
    "settings-small.yaml",
    "corpus",
    "evals/questions.jsonl",
    "evals/questions-test.jsonl",
    "evals/verifier_pairs.jsonl",
]
SKIP = shutil.ignore_patterns("__pycache__", "added", "fetched", "manifest.json", ".manifest.lock")


class BuildPyWithData(build_py):
    def run(self) -> None:
        super().run()
        root = Path(__file__).resolve().parent
        target = Path(self.build_lib) / "assistant" / "_data"
        for item in DATA:
            src, dst = root / item, target / item
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, dst, ignore=SKIP, dirs_exist_ok=True)
            elif src.exists():
                shutil.copy2(src, dst)


setup(cmdclass={"build_py": BuildPyWithData})
