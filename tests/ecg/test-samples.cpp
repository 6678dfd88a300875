// ecg/test-samples.cpp: every real record in ../shared/ecg/samples reads, with the lead count, sampling rate
// and duration its MANIFEST.md states; the 12-lead resting ECGs have a physiological lead II; derived leads
// obey Einthoven and Goldberger; the same ECG in several formats gives the same millivolts; all 1,195 hmc
// CSVs read as 12 x 5000 at 500 Hz. (Per-format details are in test-read-<format>.cpp.)
#include "test-util.h"

#include <algorithm>
#include <cmath>
#include <dirent.h>

using kalium::lead_id;

namespace {

struct sample_record {
    const char *path;          // under samples/
    const char *companion;     // WFDB signal file, or nullptr
    size_t stored_leads;       // leads the file stores (MANIFEST), before kalium derives missing limb leads
    double fs_hz;
    double duration_s;
    bool resting_12_lead;      // a diagnostic 12-lead resting ECG: lead II peak-to-peak must be 0.3-5 mV
};

const sample_record k_samples[] = {
    {"csv/denismot_ECG_12L.csv", nullptr, 12, 500, 10.0, true},
    {"dicom/dicom-ecg-plot_anonymous_ecg.dcm", nullptr, 12, 1000, 10.0, true},
    {"dicom/ecgtoolkit_Example.dcm", nullptr, 12, 500, 10.0, true},
    {"edf/contec_0000050.ECG.edf", nullptr, 12, 800, 47.3, false},
    {"ge-muse-xml/braveheart_example1.xml", nullptr, 8, 500, 10.0, true},
    {"ge-muse-xml/braveheart_example2.xml", nullptr, 8, 500, 10.0, true},
    {"ge-muse-xml/braveheart_example3.xml", nullptr, 8, 500, 10.0, true},
    {"hl7-aecg/ecgkit_ecg_hl7.xml", nullptr, 12, 500, 10.0, true},
    {"hl7-aecg/hl7_2003-12_Example_aECG.xml", nullptr, 12, 500, 10.0, true},
    // Philips files hold 11 s (MANIFEST); the reader drops the trailing 1 mV calibration pulse and the zero padding
    // around it (with a warning), leaving the recorded ECG.
    {"philips-xml/jsierraecg_PhilipsExample02.xml", nullptr, 12, 500, 10.1, true},
    {"philips-xml/pysierraecg_deid_3.xml", nullptr, 12, 500, 10.0, true},
    {"philips-xml/sierra_1_03_129DYPRG.XML", nullptr, 12, 500, 10.528, true},
    {"philips-xml/sierra_1_03_repbeats_example.xml", nullptr, 12, 500, 10.528, true},
    {"philips-xml/sierra_1_04_3191723_ZZDEMOPTONLY_1-04_orig.xml", nullptr, 12, 500, 10.6, true},
    {"philips-xml/sierra_1_04_ad4d3d80-d165_1-04_orig.xml", nullptr, 12, 500, 10.6, true},
    {"scp-ecg/contec_0000050.ECG.scp", nullptr, 12, 800, 47.3, false},
    {"scp-ecg/ecgtoolkit_Example.scp", nullptr, 12, 500, 10.0, true},
    {"wfdb/challenge2015_a103l/a103l.hea", "wfdb/challenge2015_a103l/a103l.mat", 3, 250, 330.0, false},
    {"wfdb/challenge2021/E07500.hea", "wfdb/challenge2021/E07500.mat", 12, 500, 10.0, true},
    {"wfdb/challenge2021/HR06000.hea", "wfdb/challenge2021/HR06000.mat", 12, 500, 10.0, true},
    {"wfdb/challenge2021/JS20000.hea", "wfdb/challenge2021/JS20000.mat", 12, 500, 10.0, true},
    {"wfdb/ludb_1/1.hea", "wfdb/ludb_1/1.dat", 12, 500, 10.0, true},
    {"wfdb/macecgdb_test01_00s/test01_00s.hea", "wfdb/macecgdb_test01_00s/test01_00s.dat", 4, 500, 8.0, false},
    {"wfdb/mitdb_100/100.hea", "wfdb/mitdb_100/100.dat", 2, 360, 1805.6, false},
    {"wfdb/ptbdb_s0010_re/s0010_re.hea", "wfdb/ptbdb_s0010_re/s0010_re.dat", 15, 1000, 38.4, true},
};

std::string base_name(const std::string &p) { return p.substr(p.find_last_of('/') + 1); }

kalium::result<kalium::ecg_record> read_sample(const std::string &path, const char *companion_path,
                                               const kalium::read_options &options = {}) {
    std::vector<uint8_t> bytes = read_bytes(shared_ecg("samples/" + path));
    std::vector<uint8_t> companion_bytes;
    std::vector<kalium::named_bytes> companions;
    if (companion_path) {
        companion_bytes = read_bytes(shared_ecg(std::string("samples/") + companion_path));
        companions.push_back(as_named(base_name(companion_path), companion_bytes));
    }
    // ptbdb's record spans two signal files.
    std::vector<uint8_t> xyz;
    if (path.find("s0010_re") != std::string::npos) {
        xyz = read_bytes(shared_ecg("samples/wfdb/ptbdb_s0010_re/s0010_re.xyz"));
        companions.push_back(as_named("s0010_re.xyz", xyz));
    }
    return kalium::ecg_read(as_named(base_name(path), bytes), companions, options);
}

float peak_to_peak_uv(const kalium::ecg_lead &lead) {
    float lo = INFINITY, hi = -INFINITY;
    for (float v : lead.samples_uv)
        if (std::isfinite(v)) {
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
    return hi - lo;
}

size_t stored_lead_count(const kalium::ecg_record &r) {
    return static_cast<size_t>(std::count_if(r.leads.begin(), r.leads.end(), [](const kalium::ecg_lead &l) { return !l.derived; }));
}

}  // namespace

TEST_CASE("every sample record reads with the MANIFEST's leads, rate and duration", "[ecg][samples]") {
    for (const sample_record &s : k_samples) {
        INFO(s.path);
        kalium::read_options options;
        if (std::string(s.path).find("contec") != std::string::npos) options.csv_fs_hz = 800;
        auto r = read_sample(s.path, s.companion, options);
        REQUIRE(r.ok());
        const kalium::ecg_record &rec = r.value();
        INFO("format " << rec.format << ", " << rec.leads.size() << " leads, " << rec.fs_hz << " Hz, " << rec.duration_s() << " s");
        CHECK(rec.fs_hz == Approx(s.fs_hz));
        CHECK(rec.duration_s() == Approx(s.duration_s).margin(0.1));
        CHECK(stored_lead_count(rec) <= s.stored_leads);
        CHECK(stored_lead_count(rec) >= std::min<size_t>(s.stored_leads, 2));
        if (s.resting_12_lead) {
            for (int k = 0; k < kalium::k_standard_lead_count; k++) CHECK(rec.find(static_cast<lead_id>(k)) != nullptr);
            const kalium::ecg_lead *ii = rec.find(lead_id::II);
            REQUIRE(ii);
            CHECK(peak_to_peak_uv(*ii) > 300.0f);
            CHECK(peak_to_peak_uv(*ii) < 5000.0f);
        }
    }
}

TEST_CASE("derived leads satisfy Einthoven and Goldberger", "[ecg][samples]") {
    // GE MUSE stores 8 leads: III, aVR, aVL, aVF are derived by kalium.
    auto r = read_sample("ge-muse-xml/braveheart_example1.xml", nullptr);
    REQUIRE(r.ok());
    const kalium::ecg_record &rec = r.value();
    const auto *i = rec.find(lead_id::I), *ii = rec.find(lead_id::II), *iii = rec.find(lead_id::III);
    const auto *avr = rec.find(lead_id::aVR), *avl = rec.find(lead_id::aVL), *avf = rec.find(lead_id::aVF);
    REQUIRE((i && ii && iii && avr && avl && avf));
    CHECK((iii->derived && avr->derived && avl->derived && avf->derived));
    CHECK_FALSE(i->derived);
    for (size_t t = 0; t < rec.sample_count(); t++) {
        REQUIRE(std::fabs(ii->samples_uv[t] - i->samples_uv[t] - iii->samples_uv[t]) < 0.01f);
        REQUIRE(std::fabs(avr->samples_uv[t] + avl->samples_uv[t] + avf->samples_uv[t]) < 0.01f);
        REQUIRE(std::fabs(avr->samples_uv[t] + 0.5f * (i->samples_uv[t] + ii->samples_uv[t])) < 0.01f);
    }
}

namespace {

// Largest |a - b| in microvolts over the first `count` samples of lead `id`, at the lag (-max_lag..max_lag samples
// of b against a) that minimises it: files of one ECG may start a few samples apart.
float best_aligned_difference_uv(const kalium::ecg_record &a, const kalium::ecg_record &b, lead_id id, size_t count,
                                 int max_lag, int *lag_out) {
    const auto *la = a.find(id), *lb = b.find(id);
    if (!la || !lb) return INFINITY;
    float best = INFINITY;
    for (int lag = -max_lag; lag <= max_lag; lag++) {
        float worst = 0.0f;
        for (size_t t = static_cast<size_t>(max_lag); t < count; t++) {
            const long u = static_cast<long>(t) + lag;
            if (u < 0 || static_cast<size_t>(u) >= lb->samples_uv.size() || t >= la->samples_uv.size()) continue;
            worst = std::max(worst, std::fabs(la->samples_uv[t] - lb->samples_uv[static_cast<size_t>(u)]));
        }
        if (worst < best) {
            best = worst;
            *lag_out = lag;
        }
    }
    return best;
}

}  // namespace

TEST_CASE("one ECG in HL7 aECG, SCP-ECG and DICOM gives the same millivolts", "[ecg][samples][cross-format]") {
    auto aecg = read_sample("hl7-aecg/hl7_2003-12_Example_aECG.xml", nullptr);
    auto scp = read_sample("scp-ecg/ecgtoolkit_Example.scp", nullptr);
    auto dicom = read_sample("dicom/ecgtoolkit_Example.dcm", nullptr);
    REQUIRE((aecg.ok() && scp.ok() && dicom.ok()));
    for (lead_id id : {lead_id::I, lead_id::II, lead_id::V1, lead_id::V5}) {
        INFO("lead " << kalium::lead_id_name(id));
        int lag_scp = 0, lag_dicom = 0;
        // Quantisation: the aECG and DICOM store 5 uV / 2.5 uV steps, the SCP file 2.5 uV (AVM 2500 nV).
        const float d_scp = best_aligned_difference_uv(aecg.value(), scp.value(), id, 4000, 20, &lag_scp);
        const float d_dicom = best_aligned_difference_uv(aecg.value(), dicom.value(), id, 4000, 20, &lag_dicom);
        INFO("aecg vs scp: " << d_scp << " uV at lag " << lag_scp << "; aecg vs dicom: " << d_dicom << " uV at lag " << lag_dicom);
        CHECK(d_scp <= 5.0f);
        CHECK(d_dicom <= 5.0f);
    }
}

TEST_CASE("the Contec recording as CSV, EDF and SCP-ECG gives the same millivolts", "[ecg][samples][cross-format]") {
    // The three files hold the same ADC integers. The SCP file (AVM 5000 nV) and the Contec converter's own
    // constant say 5 uV per unit; the CSV states nothing, so the test states it. The EDF header instead maps
    // digital -32768..32767 to -1000..1000 mV (30.5 uV per unit): a wrong calibration in the file, which the
    // reader follows (EDF's rule; its 4-6 mV limb-lead spans are large but not impossible, so no warning can
    // tell). So the EDF is compared in ADC units.
    kalium::read_options options;
    options.csv_fs_hz = 800;
    options.csv_uv_per_unit = 5;
    auto csv = read_sample("csv/contec_0000050.ECG.csv", nullptr, options);
    auto edf = read_sample("edf/contec_0000050.ECG.edf", nullptr);
    auto scp = read_sample("scp-ecg/contec_0000050.ECG.scp", nullptr);
    REQUIRE((csv.ok() && edf.ok() && scp.ok()));
    const double edf_uv_per_unit = 2000000.0 / 65535.0;
    for (lead_id id : {lead_id::I, lead_id::II, lead_id::III, lead_id::aVF}) {
        INFO("lead " << kalium::lead_id_name(id));
        const auto *c = csv->find(id), *e = edf->find(id), *p = scp->find(id);
        REQUIRE((c && e && p));
        REQUIRE(c->samples_uv.size() == e->samples_uv.size());
        size_t compared_scp = 0;
        for (size_t t = 0; t < c->samples_uv.size(); t++) {
            const double csv_units = c->samples_uv[t] / 5.0;
            // EDF: physical = phys_min + (digital - dig_min) * range / digital range.
            const double edf_units = (e->samples_uv[t] + 1000000.0) / edf_uv_per_unit - 32768.0;
            REQUIRE(std::fabs(edf_units - csv_units) < 1e-2);
            if (std::isfinite(p->samples_uv[t])) {  // the SCP converter kept only the first 32767 samples
                REQUIRE(std::fabs(p->samples_uv[t] - c->samples_uv[t]) < 1e-3f);
                compared_scp++;
            }
        }
        CHECK(compared_scp == 32767);
    }
}

TEST_CASE("all hmc CSVs read as 12 leads x 5000 samples at 500 Hz", "[ecg][samples][hmc]") {
    DIR *dir = opendir(KALIUM_HMC_DIR);
    REQUIRE(dir != nullptr);
    size_t files = 0, failures = 0;
    std::string first_failure;
    while (dirent *e = readdir(dir)) {
        const std::string name = e->d_name;
        if (name.size() < 5 || name.compare(name.size() - 4, 4, ".csv") != 0) continue;
        files++;
        std::vector<uint8_t> bytes = read_bytes(std::string(KALIUM_HMC_DIR) + "/" + name);
        auto r = kalium::ecg_read(as_named(name, bytes));
        const bool good = r.ok() && r->fs_hz == 500.0 && r->sample_count() == 5000 && r->leads.size() == 12 &&
                          stored_lead_count(r.value()) == 12;
        if (!good) {
            failures++;
            if (first_failure.empty()) first_failure = name + ": " + (r.ok() ? "wrong shape" : r.error().message());
        }
    }
    closedir(dir);
    INFO("first failure: " << first_failure);
    CHECK(files == 1195);
    CHECK(failures == 0);
}
