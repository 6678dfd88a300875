"""kalium_core.Model gives exactly the prediction JSON of `kalium predict` (one C++ serialiser writes both),
checks the weights' sha256, and kalium_core.read finds a WFDB record's companions as the CLI does."""
import hashlib
import json
import shutil
import subprocess

import pytest

import kalium_core
from helpers import KALIUM, ROOT, SAMPLES, bad_files, kalium_predict, sample_files


@pytest.fixture(scope="module")
def model():
    return kalium_core.Model()


def test_predictions_equal_kalium_predict_field_by_field(model):
    files = sample_files() + bad_files(20)
    cli = kalium_predict(files)
    predicted = 0
    for path, line in zip(files, cli):
        ours = model.predict_file(path)
        a, b = json.loads(ours), json.loads(line)
        assert list(a) == list(b), path                  # the same keys in the same order
        for key in b:
            assert a[key] == b[key], (path, key)         # and the same values, to the last bit of each double
        assert ours == line, path                        # so the same text
        predicted += "k_plus" in b
    assert predicted >= 35                               # most samples are 12-lead ECGs: these are predictions
    assert len(files) - predicted >= 20                  # and the bad files are error objects, not predictions


def test_bytes_and_record_give_the_file_prediction(model):
    # WFDB with .dat, with .mat (Challenge 2021), with .dat + .xyz (PTB), and XML, SCP, DICOM
    for rel in ["wfdb/ludb_1/1.hea", "wfdb/challenge2021/HR06000.hea", "wfdb/ptbdb_s0010_re/s0010_re.hea",
                "philips-xml/sierra_1_04_ad4d3d80-d165_1-04_orig.xml", "scp-ecg/ecgtoolkit_Example.scp",
                "dicom/ecgtoolkit_Example.dcm"]:
        path = SAMPLES / rel
        expected = json.loads(model.predict_file(str(path)))
        assert "k_plus" in expected, rel
        companions = []
        if path.suffix == ".hea":
            named = kalium_core.wfdb_named_files(path.read_bytes(), path.name)
            companions = [(n, (path.parent / n).read_bytes()) for n in named if (path.parent / n).is_file()]
            assert companions, rel
        from_bytes = json.loads(model.predict_bytes(path.name, path.read_bytes(), companions))
        from_record = json.loads(model.predict_record(kalium_core.read(str(path)), file=str(path)))
        assert from_record == expected, rel
        assert from_bytes == {**expected, "file": path.name}, rel
    # a record that cannot be prepared is an error object, as from the CLI
    short = kalium_core.read(str(SAMPLES / "wfdb/mitdb_100/100.hea"))
    err = json.loads(model.predict_record(short, file="100.hea"))
    assert err["file"] == "100.hea" and err["error_code"] != "" and "lead I is missing" in err["error"]


def test_read_groups_wfdb_companions_like_the_cli(tmp_path):
    # PTB s0010_re: its header names s0010_re.dat (12 leads) and s0010_re.xyz (Frank leads)
    ptb = SAMPLES / "wfdb/ptbdb_s0010_re/s0010_re.hea"
    rec = kalium_core.read(str(ptb))
    cli = json.loads(subprocess.run([str(KALIUM), "inspect", str(ptb)], capture_output=True, text=True, check=True).stdout)
    cli = cli[0] if isinstance(cli, list) else cli
    assert rec["lead_names"] == cli["leads"] and len(rec["lead_names"]) == 15
    # A header whose signal file does not share its stem: read() must take the file the header names.
    src = SAMPLES / "wfdb/ludb_1/1.hea"
    text = src.read_text(encoding="latin-1").replace("1.dat", "signals-of-1.dat")
    (tmp_path / "renamed.hea").write_text(text, encoding="latin-1")
    shutil.copy(SAMPLES / "wfdb/ludb_1/1.dat", tmp_path / "signals-of-1.dat")
    renamed = kalium_core.read(str(tmp_path / "renamed.hea"))
    original = kalium_core.read(str(src))
    assert (renamed["samples_uv"] == original["samples_uv"]).all()
    assert kalium_core.wfdb_named_files(text.encode("latin-1"), "renamed.hea")[0] == "signals-of-1.dat"
    # and without it, the error names the missing file
    (tmp_path / "signals-of-1.dat").unlink()
    with pytest.raises(ValueError, match="signals-of-1.dat"):
        kalium_core.read(str(tmp_path / "renamed.hea"))


def test_model_is_sha256_checked(tmp_path):
    shipped = ROOT / "model" / "ecg12net-1.kmodel"
    data = shipped.read_bytes()
    m = kalium_core.Model(str(shipped))
    assert m.sha256 == hashlib.sha256(data).hexdigest() and m.name == "ecg12net-1"
    # a damaged copy beside the shipped manifest is refused, naming the file
    damaged = tmp_path / "damaged.kmodel"
    damaged.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    shutil.copy(str(shipped) + ".sha256", str(damaged) + ".sha256")
    with pytest.raises(ValueError, match="damaged.kmodel"):
        kalium_core.Model(str(damaged))
    # an intact copy without a manifest loads, but not when another sha256 is demanded
    copy = tmp_path / "copy.kmodel"
    copy.write_bytes(data)
    assert kalium_core.Model(str(copy)).sha256 == m.sha256
    with pytest.raises(ValueError, match="sha256"):
        kalium_core.Model(str(copy), expected_sha256="0" * 64)
    with pytest.raises(ValueError, match="no/such.kmodel"):
        kalium_core.Model("/no/such.kmodel")
    with pytest.raises(ValueError, match="precision"):
        kalium_core.Model(str(copy), precision="f16")
