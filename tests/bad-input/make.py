#!/usr/bin/python3
"""tests/bad-input/make.py: writes the crafted bad-input corpus into tests/bad-input/files/.

Every file is made here from scratch (no byte comes from ../shared/ecg), deterministically: run it again and
the files are byte-for-byte the same. tests/bad-input/EXPECTED.tsv says what kalium must answer for each:
tests/ecg/test-bad-input.cpp reads every file through ecg_read_all + ecg_prepare_input and checks it,
tests/cli/test-bad-input.cpp runs `kalium predict` on all of them.

usage: tests/bad-input/make.py            (writes tests/bad-input/files/)
"""
import base64
import io
import math
import os
import random
import shutil
import struct
import zipfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "files")
LEADS12 = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]

files = {}  # name -> bytes


def put(name, data):
    assert name not in files, name
    files[name] = data if isinstance(data, bytes) else data.encode()


def ecg_like(n, fs_hz, lead, amplitude_adu=200):
    """A plausible ECG-shaped integer trace: a QRS-like spike at 1 Hz plus a T wave, per-lead scaled."""
    scale = [1.0, 1.3, 0.4, -1.1, 0.3, 0.8, -0.6, 0.4, 0.9, 1.4, 1.2, 0.9][lead % 12]
    out = []
    for i in range(n):
        t = (i / fs_hz) % 1.0
        v = math.exp(-((t - 0.3) / 0.012) ** 2) + 0.25 * math.exp(-((t - 0.6) / 0.05) ** 2)
        out.append(int(round(amplitude_adu * scale * v)))
    return out


def le16(values):
    return b"".join(struct.pack("<h", max(-32768, min(32767, v))) for v in values)


# ---- WFDB -------------------------------------------------------------------------------------------------------

def wfdb(name, leads, fs_hz, nsamp, data=None, fmt=16, header=None, nframes=None):
    """<name>.hea + <name>.dat (format 16, interleaved). `nframes` frames are written (default nsamp)."""
    nframes = nsamp if nframes is None else nframes
    if data is None:
        traces = [ecg_like(nframes, fs_hz if fs_hz > 0 else 500, k) for k in range(len(leads))]
        data = b"".join(le16([traces[k][i] for k in range(len(leads))]) for i in range(nframes))
    # Checksums (16-bit sum of each signal's samples) as WFDB writes them, so good files read without warnings.
    values = struct.unpack(f"<{len(data) // 2}h", data[:len(data) // 2 * 2])
    lines = [f"{name} {len(leads)} {fs_hz} {nsamp}"]
    for k, lead in enumerate(leads):
        checksum = struct.unpack("<h", struct.pack("<H", sum(values[k::len(leads)]) & 0xFFFF))[0]
        lines.append(f"{name}.dat {fmt} 200/mV 16 0 {values[k] if k < len(values) else 0} {checksum} 0 {lead}")
    put(name + ".hea", header if header is not None else "\n".join(lines) + "\n")
    put(name + ".dat", data)


wfdb("wfdb-ok-12-leads", LEADS12, 500, 5000)
wfdb("wfdb-1-lead", ["II"], 500, 5000)
wfdb("wfdb-3-leads", ["I", "II", "V1"], 500, 5000)
wfdb("wfdb-truncated-signal", LEADS12, 500, 5000, data=b"\x01")
wfdb("wfdb-short-signal", LEADS12, 500, 5000, nframes=500)                      # 1 s of the declared 10 s
wfdb("wfdb-1e9-samples", LEADS12, 500, 1000000000, nframes=5000)                 # header claims 1e9 samples
wfdb("wfdb-24-hours-declared", LEADS12, 500, 24 * 3600 * 500, nframes=5000)      # a 24-hour header, 10 s of data
wfdb("wfdb-fs-1e9", LEADS12, 1000000000, 5000, nframes=50)
wfdb("wfdb-fs-0", LEADS12, 0, 5000)                                              # WFDB: 0 means 250 Hz
wfdb("wfdb-fs-negative", LEADS12, -500, 5000, nframes=50)
wfdb("wfdb-0-length", LEADS12, 500, 0, data=b"")
wfdb("wfdb-100000-leads", [], 500, 5000, header="big 100000 500 5000\nbig.dat 16 200/mV 16 0 0 0 0 I\n", data=b"\0" * 64)
wfdb("wfdb-header-fewer-signal-lines", [], 500, 5000,
     header="few 12 500 5000\nfew.dat 16 200/mV 16 0 0 0 0 I\nfew.dat 16 200/mV 16 0 0 0 0 II\n", data=b"\0" * 64)
wfdb("wfdb-bad-format-code", [], 500, 5000, header="fmt 1 500 5000\nfmt.dat 999 200/mV 16 0 0 0 0 I\n", data=b"\0" * 64)
# every sample of V1 is WFDB's invalid value (-32768): NaN in the record, 0 in the network input, with a warning
traces12 = [[-32768] * 5000 if k == 6 else ecg_like(5000, 500, k) for k in range(12)]
nan_data = b"".join(le16([traces12[k][i] for k in range(12)]) for i in range(5000))
wfdb("wfdb-invalid-samples", LEADS12, 500, 5000, data=nan_data)
put("wfdb-missing-signal.hea", "gone 12 500 5000\n" + "".join(f"gone.dat 16 200/mV 16 0 0 0 0 {l}\n" for l in LEADS12))
put("orphan-signal.dat", le16(ecg_like(1000, 500, 0)))
put("wfdb-garbage-header.hea", "this is not 12 a header\n\x00\x01\x02\n")

# ---- CSV --------------------------------------------------------------------------------------------------------

def csv(name, leads, fs_hz, n, cell=None, header=True, meta=""):
    traces = [ecg_like(n, fs_hz, k) for k in range(len(leads))]
    rows = [",".join(["time_s"] + [f"{l} (uV)" for l in leads])] if header else []
    for i in range(n):
        cells = [f"{i / fs_hz:.6f}"] + [str(traces[k][i] * 5) for k in range(len(leads))]
        if cell:
            cells = cell(i, cells)
        rows.append(",".join(cells))
    put(name, meta + "\n".join(rows) + "\n")


csv("csv-ok-12-leads.csv", LEADS12, 250, 2500)
csv("csv-1-lead.csv", ["II"], 250, 2500)
csv("csv-3-leads.csv", ["I", "II", "III"], 250, 2500)
csv("csv-1-second.csv", LEADS12, 250, 250)
csv("csv-nan-samples.csv", LEADS12, 250, 2500, cell=lambda i, c: c[:3] + ["NaN"] + c[4:] if i % 2 else c)  # II: every other sample
csv("csv-infinite-samples.csv", LEADS12, 250, 2500, cell=lambda i, c: c[:3] + ["inf"] + c[4:] if i == 2 else c)
csv("csv-ragged-rows.csv", LEADS12, 250, 2500, cell=lambda i, c: c[:7] if i == 1000 else c)
put("csv-header-only.csv", ",".join(["time_s"] + [f"{l} (uV)" for l in LEADS12]) + "\n")
csv("csv-time-not-increasing.csv", LEADS12, 250, 2500, cell=lambda i, c: ["0.000000"] + c[1:])
csv("csv-fs-1e9.csv", LEADS12, 250, 2500, meta="Sampling rate: 1000000000 Hz\n")
csv("csv-fs-0.csv", LEADS12, 250, 2500, meta="Sampling rate: 0 Hz\n")
put("csv-100000-columns.csv", ",".join("1" for _ in range(100000)) + "\n")
csv("csv-text-cells.csv", LEADS12, 250, 2500, cell=lambda i, c: c[:5] + ["lead-off"] + c[6:] if i == 7 else c)

# ---- EDF --------------------------------------------------------------------------------------------------------

def edf(name, labels, spr, records, duration="1", records_written=None, header_bytes=None, ns_field=None,
        phys=("-3276.8", "3276.7"), dig=("-32768", "32767"), data=None):
    ns = len(labels)
    records_written = records if records_written is None else records_written
    f = lambda text, width: text.encode("latin-1")[:width].ljust(width, b" ")
    b = f("0", 8) + f("X X X X", 80) + f("Startdate 01-JAN-2024 X X X", 80) + f("01.01.24", 8) + f("10.00.00", 8)
    b += f(str(256 * (ns + 1)) if header_bytes is None else header_bytes, 8) + f("", 44)
    b += f(str(records), 8) + f(duration, 8) + f(str(ns) if ns_field is None else ns_field, 4)
    b += b"".join(f(l, 16) for l in labels) + b"".join(f("AgAgCl electrode", 80) for _ in labels)
    b += b"".join(f("uV", 8) for _ in labels) + b"".join(f(phys[0], 8) for _ in labels) + b"".join(f(phys[1], 8) for _ in labels)
    b += b"".join(f(dig[0], 8) for _ in labels) + b"".join(f(dig[1], 8) for _ in labels)
    b += b"".join(f("HP:0.05Hz", 80) for _ in labels) + b"".join(f(str(spr), 8) for _ in labels) + b"".join(f("", 32) for _ in labels)
    if data is None:
        fs = spr / float(duration) if float(duration) > 0 else 250
        traces = [ecg_like(spr * records_written, fs, k, amplitude_adu=10000) for k in range(ns)]
        data = b"".join(le16(traces[k][r * spr:(r + 1) * spr]) for r in range(records_written) for k in range(ns))
    return b + data


ECG12 = ["ECG " + l for l in LEADS12]
put("edf-ok-12-leads.edf", edf("ok", ECG12, 250, 10))
put("edf-truncated.edf", edf("t", ECG12, 250, 10)[:256 * 13 + 1000])
put("edf-header-bytes-wrong.edf", edf("h", ECG12, 250, 10, header_bytes="1234"))
put("edf-1e9-records.edf", edf("r", ECG12, 250, 1000000000, records_written=10))
put("edf-24-hours-declared.edf", edf("d", ECG12, 250, 86400, records_written=10))
put("edf-physical-min-equals-max.edf", edf("p", ECG12, 250, 10, phys=("100", "100")))
put("edf-digital-min-equals-max.edf", edf("g", ECG12, 250, 10, dig=("5", "5")))
put("edf-9999-signals.edf", edf("s", ECG12, 250, 10, ns_field="9999")[:4096])
put("edf-duration-0.edf", edf("z", ECG12, 250, 10, duration="0"))
put("edf-header-only.edf", edf("e", ECG12, 250, 10)[:256 * 13])

# ---- GE MUSE XML ------------------------------------------------------------------------------------------------

def muse(leads, counts=None, rate="500", payload=None, tail="</RestingECG>\n"):
    parts = []
    for k, lead in enumerate(leads):
        n = 5000 if counts is None else counts[k]
        raw = le16(ecg_like(5000, 500, k)) if payload is None else payload
        parts.append(f"<LeadData><LeadByteCountTotal>{2 * n}</LeadByteCountTotal><LeadSampleCountTotal>{n}</LeadSampleCountTotal>"
                     f"<LeadAmplitudeUnitsPerBit>4.88</LeadAmplitudeUnitsPerBit><LeadAmplitudeUnits>MICROVOLTS</LeadAmplitudeUnits>"
                     f"<LeadID>{lead}</LeadID><LeadSampleSize>2</LeadSampleSize>"
                     f"<WaveFormData>{base64.b64encode(raw).decode()}</WaveFormData></LeadData>")
    return ("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<RestingECG><MuseInfo><MuseVersion>9.0.9</MuseVersion></MuseInfo>"
            f"<Waveform><WaveformType>Rhythm</WaveformType><SampleBase>{rate}</SampleBase><SampleExponent>0</SampleExponent>"
            + "".join(parts) + "</Waveform>" + tail)


MUSE8 = ["I", "II", "V1", "V2", "V3", "V4", "V5", "V6"]
put("muse-ok-8-leads.xml", muse(MUSE8))
put("muse-truncated.xml", muse(MUSE8)[:3000])
put("muse-count-mismatch.xml", muse(MUSE8, counts=[5000] * 7 + [4000]))
put("muse-fs-0.xml", muse(MUSE8, rate="0"))
put("muse-1e9-samples.xml", muse(["I", "II"], counts=[1000000000] * 2, payload=le16([1, 2, 3, 4])))
put("muse-bad-base64.xml", muse(["I"]).replace("<WaveFormData>", "<WaveFormData>!!!!"))
put("muse-no-waveform.xml", "<?xml version=\"1.0\"?>\n<RestingECG><PatientDemographics/></RestingECG>\n")

# ---- HL7 aECG -----------------------------------------------------------------------------------------------------

def aecg(leads, increment="2", digits=None, scale="5", tail="</h:AnnotatedECG>\n"):
    seqs = ["<h:component><h:sequence><h:code code=\"TIME_ABSOLUTE\"/><h:value xsi:type=\"GLIST_TS\">"
            f"<h:head value=\"20240102030405.500\"/><h:increment value=\"{increment}\" unit=\"ms\"/></h:value></h:sequence></h:component>"]
    for k, lead in enumerate(leads):
        d = " ".join(str(v) for v in ecg_like(5000, 500, k)) if digits is None else digits[k]
        seqs.append(f"<h:component><h:sequence><h:code code=\"MDC_ECG_LEAD_{lead}\"/><h:value xsi:type=\"SLIST_PQ\">"
                    f"<h:origin value=\"0\" unit=\"uV\"/><h:scale value=\"{scale}\" unit=\"uV\"/><h:digits>{d}</h:digits>"
                    "</h:value></h:sequence></h:component>")
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<h:AnnotatedECG xmlns:h=\"urn:hl7-org:v3\" "
            "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><h:component><h:series><h:code code=\"RHYTHM\"/>"
            "<h:component><h:sequenceSet>" + "".join(seqs) + "</h:sequenceSet></h:component></h:series></h:component>" + tail)


AECG12 = ["I", "II", "III", "AVR", "AVL", "AVF", "V1", "V2", "V3", "V4", "V5", "V6"]
put("aecg-ok-12-leads.xml", aecg(AECG12))
put("aecg-truncated.xml", aecg(AECG12)[:20000])
put("aecg-nan-digits.xml", aecg(["I", "II"], digits=["1 2 NaN 4 " * 500, "inf -inf 3 4 " * 500]))
put("aecg-increment-0.xml", aecg(["I", "II"], increment="0", digits=["1 2 3 4"] * 2))
put("aecg-scale-infinite.xml", aecg(["I", "II"], scale="1e400", digits=["1 2 3 4"] * 2))
put("aecg-length-mismatch.xml", aecg(["I", "II"], digits=["1 2 3 4 5 6", "1 2 3"]))
put("aecg-3-leads.xml", aecg(["I", "II", "V1"]))

# ---- Philips XML --------------------------------------------------------------------------------------------------

def philips(attributes, payload, version="1.04"):
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<restingecgdata xmlns=\"http://www3.medical.philips.com\">\n"
            f"<documentinfo><documenttype>PhilipsECG</documenttype><documentversion>{version}</documentversion></documentinfo>\n"
            f"<waveforms><parsedwaveforms {attributes}>{payload}</parsedwaveforms></waveforms></restingecgdata>\n")


def pack10(codes):
    """10-bit LZW codes packed most significant bit first (XLI)."""
    bits, out, acc = 0, bytearray(), 0
    for c in codes:
        acc = (acc << 10) | c
        bits += 10
        while bits >= 8:
            out.append((acc >> (bits - 8)) & 0xFF)
            bits -= 8
    if bits:
        out.append((acc << (8 - bits)) & 0xFF)
    return bytes(out)


def xli_bomb(repeats):
    """One XLI chunk whose LZW codes grow the dictionary to its longest strings and then repeat the longest
    (767 bytes per 10-bit code): `repeats` codes expand to about 767 x repeats bytes."""
    codes = [0] + list(range(256, 1023)) + [1022] * repeats
    packed = pack10(codes)
    return struct.pack("<iHh", len(packed), 1, 0) + packed


plain12 = b"".join(le16(ecg_like(750, 250, k)) for k in range(12))
labels = " ".join(LEADS12)
ok_attrs = f'dataencoding="Base64" compression="None" numberofleads="12" leadlabels="{labels}" samplespersecond="250" resolution="5"'
put("philips-ok-12-leads.xml", philips(ok_attrs + ' durationperchannel="3000"', base64.b64encode(plain12).decode()))
put("philips-truncated.xml", philips(ok_attrs, base64.b64encode(plain12).decode())[:6000])
put("philips-bad-base64.xml", philips(ok_attrs, "%%%% not base64 %%%%"))
put("philips-fs-0.xml", philips(ok_attrs.replace('"250"', '"0"'), base64.b64encode(plain12).decode()))
put("philips-fs-1e9.xml", philips(ok_attrs.replace('"250"', '"1e9"'), base64.b64encode(plain12).decode()))
put("philips-100000-leads.xml", philips(ok_attrs.replace('numberofleads="12"', 'numberofleads="100000"'), "AAAA"))
put("philips-labels-mismatch.xml", philips(ok_attrs.replace('numberofleads="12"', 'numberofleads="3"'), "AAAA"))
put("philips-duration-absurd.xml", philips(ok_attrs + ' durationperchannel="1e12"', base64.b64encode(plain12).decode()))
xli_attrs = ok_attrs.replace('compression="None"', 'compression="XLI"')
# ~11 KB of codes that would expand past 11 MB: more than the 10 s declared, more than kalium's per-lead limit.
bomb = xli_bomb(15000)
put("philips-xli-bomb-declared-10s.xml", philips(xli_attrs.replace('"250"', '"500"') + ' durationperchannel="10000"',
                                                 base64.b64encode(bomb).decode()))
put("philips-xli-bomb.xml", philips(xli_attrs, base64.b64encode(bomb).decode()))
put("philips-wrong-root.xml", philips(ok_attrs, "AAAA").replace("restingecgdata", "restingecgdatx", 1))

# ---- SCP-ECG ------------------------------------------------------------------------------------------------------

def crc_ccitt(data):
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def scp(bodies, protocol=20):
    """An SCP-ECG record (the layout of tests/ecg/test-read-scp-ecg.cpp's writer): section 0 points to
    sections 1-11 and any others in `bodies` (id -> bytes after the 16-byte section header)."""
    ids = list(range(1, 12)) + sorted(i for i in bodies if i > 11)
    out = bytearray(6)
    s0 = len(out)
    s0_len = 16 + 10 * (len(ids) + 1)
    out += bytes(s0_len)
    placed = [(0, s0, s0_len)]
    for i in ids:
        if i not in bodies:
            placed.append((i, 0, 0))
            continue
        at = len(out)
        body = bodies[i]
        out += struct.pack("<HHIBB", 0, i, 16 + len(body), protocol, protocol) + bytes(6) + body
        placed.append((i, at, 16 + len(body)))
    struct.pack_into("<HHIBB", out, s0, 0, 0, s0_len, protocol, protocol)
    out[s0 + 10:s0 + 16] = b"SCPECG"
    for p, (i, at, length) in enumerate(placed):
        struct.pack_into("<HII", out, s0 + 16 + 10 * p, i, length, 0 if length == 0 else at + 1)
    for i, at, length in placed:
        if length:
            struct.pack_into("<H", out, at, crc_ccitt(out[at + 2:at + length]))
    struct.pack_into("<I", out, 2, len(out))
    struct.pack_into("<H", out, 0, crc_ccitt(out[2:]))
    return bytes(out)


SCP_CODES = {"I": 1, "II": 2, "V1": 3, "V2": 4, "V3": 5, "V4": 6, "V5": 7, "V6": 8, "III": 61, "aVR": 62, "aVL": 63, "aVF": 64}


def scp_record(leads, n=5000, interval_us=2000, data=None, s3_n=None):
    s3 = struct.pack("<BB", len(leads), 0x04) + b"".join(struct.pack("<IIB", 1, n if s3_n is None else s3_n, SCP_CODES[l]) for l in leads)
    raws = [le16(ecg_like(n, 1e6 / max(interval_us, 1), k)) if data is None else data for k in range(len(leads))]
    s6 = struct.pack("<HHBB", 5000, interval_us, 0, 0) + b"".join(struct.pack("<H", len(r)) for r in raws) + b"".join(raws)
    return scp({3: s3, 6: s6})


SCP12 = ["I", "II", "V1", "V2", "V3", "V4", "V5", "V6", "III", "aVR", "aVL", "aVF"]
put("scp-ok-12-leads.scp", scp_record(SCP12))
put("scp-truncated.scp", scp_record(SCP12)[:5000])
put("scp-3-leads.scp", scp_record(["I", "II", "V1"]))
put("scp-interval-0.scp", scp_record(SCP12, n=10, interval_us=0))
rec = bytearray(scp_record(SCP12))
rec[-3] ^= 0xFF                                                                   # one sample byte changed after the CRCs
put("scp-bad-crc.scp", bytes(rec))
put("scp-lead-beyond-section.scp", scp_record(["I", "II"], n=10, s3_n=1000000000))

# ---- DICOM --------------------------------------------------------------------------------------------------------

def el(group, number, vr, value, explicit=True):
    head = struct.pack("<HH", group, number)
    if explicit:
        if vr in ("OB", "OW", "SQ", "UN", "UT"):
            return head + vr.encode() + b"\0\0" + struct.pack("<I", len(value)) + value
        return head + vr.encode() + struct.pack("<H", len(value)) + value
    return head + struct.pack("<I", len(value)) + value


def txt(group, number, vr, s):
    b = s.encode()
    if len(b) % 2:
        b += b"\0" if vr == "UI" else b" "
    return el(group, number, vr, b)


def seq(group, number, items):
    content = b"".join(struct.pack("<HHI", 0xFFFE, 0xE000, len(i)) + i for i in items)
    return el(group, number, "SQ", content)


def dicom(channels=12, samples=5000, fs="500", transfer="1.2.840.10008.1.2.1", magic=b"DICM", data=None, body=None):
    sop = "1.2.840.10008.5.1.4.1.1.9.1.1"
    codes = ["5.6.3-9-1", "5.6.3-9-2", "5.6.3-9-61", "5.6.3-9-62", "5.6.3-9-63", "5.6.3-9-64",
             "5.6.3-9-3", "5.6.3-9-4", "5.6.3-9-5", "5.6.3-9-6", "5.6.3-9-7", "5.6.3-9-8"]
    defs = []
    for c in range(min(channels, 12)):
        src = seq(0x003A, 0x0208, [txt(0x0008, 0x0100, "SH", codes[c]) + txt(0x0008, 0x0102, "SH", "SCPECG") +
                                   txt(0x0008, 0x0104, "LO", "Lead " + LEADS12[c])])
        units = seq(0x003A, 0x0211, [txt(0x0008, 0x0100, "SH", "uV") + txt(0x0008, 0x0102, "SH", "UCUM") + txt(0x0008, 0x0104, "LO", "uV")])
        defs.append(src + txt(0x003A, 0x0210, "DS", "5") + units + txt(0x003A, 0x0212, "DS", "1") + txt(0x003A, 0x0213, "DS", "0"))
    if data is None:
        traces = [ecg_like(samples, float(fs) if float(fs) > 0 else 500, k) for k in range(min(channels, 12))]
        data = b"".join(le16([traces[k][i] for k in range(len(traces))]) for i in range(samples))
    group = (el(0x003A, 0x0005, "US", struct.pack("<H", channels)) + el(0x003A, 0x0010, "UL", struct.pack("<I", samples)) +
             txt(0x003A, 0x001A, "DS", fs) + txt(0x003A, 0x0020, "SH", "RHYTHM") + seq(0x003A, 0x0200, defs) +
             el(0x5400, 0x1004, "US", struct.pack("<H", 16)) + txt(0x5400, 0x1006, "CS", "SS") + el(0x5400, 0x1010, "OW", data))
    meta = txt(0x0002, 0x0002, "UI", sop) + txt(0x0002, 0x0010, "UI", transfer)
    if body is None:
        body = txt(0x0008, 0x0016, "UI", sop) + seq(0x5400, 0x0100, [group])
    return bytes(128) + magic + meta + body


put("dicom-ok-12-leads.dcm", dicom())
put("dicom-truncated.dcm", dicom()[:20000])
put("dicom-wrong-magic.dcm", dicom(magic=b"DICX"))
put("dicom-100000-channels.dcm", dicom(channels=65535, samples=1, data=b"\0\0" * 12))
put("dicom-1e9-samples.dcm", dicom(samples=1000000000, data=b"\0\0" * 12 * 100))
put("dicom-fs-0.dcm", dicom(fs="0", samples=100))
put("dicom-3-leads.dcm", dicom(channels=3))
# Deflated explicit VR little endian whose deflated body is a bomb (64 MB of zeros in 64 KB).
put("dicom-deflate-bomb.dcm", dicom(transfer="1.2.840.10008.1.2.1.99",
                                    body=zlib.compressobj(9, zlib.DEFLATED, -15).compress(bytes(64 << 20)) +
                                    zlib.compressobj(9, zlib.DEFLATED, -15).flush()))

# ---- not ECG files ------------------------------------------------------------------------------------------------

def png_1x1():
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(b"\0\0")) + chunk(b"IEND", b""))


put("not-ecg-image.png", png_1x1())
put("not-ecg-document.pdf", "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
    "trailer << /Root 1 0 R >>\n%%EOF\n")
zbuf = io.BytesIO()
with zipfile.ZipFile(zbuf, "w", zipfile.ZIP_DEFLATED) as z:
    info = zipfile.ZipInfo("ecg.xml", date_time=(2024, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    z.writestr(info, bytes(32 << 20))                                                 # a zip bomb: 32 MB of zeros
put("not-ecg-zip-bomb.zip", zbuf.getvalue())
put("not-ecg-empty.hea", b"")
put("not-ecg-empty.xml", b"")
put("not-ecg-random.bin", random.Random(8).randbytes(4096))
put("not-ecg-utf16-text.txt", "\ufeffThis is a letter, not an ECG.\r\nKalium should say so.\r\n".encode("utf-16-le"))
put("not-ecg-json.json", '{"ecg": [1, 2, 3], "fs": 500}\n')
put("not-ecg-other-xml.xml", '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1"/></svg>\n')
put("not-ecg-nul-bytes.csv", bytes(1000))


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    for name in sorted(files):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(files[name])
    total = sum(len(b) for b in files.values())
    print(f"make.py: {len(files)} files, {total / 1024:.0f} KiB in {OUT}")


if __name__ == "__main__":
    main()
