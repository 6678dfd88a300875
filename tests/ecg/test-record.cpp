// ecg/test-record.cpp: lead names, limb-lead derivation, lead order, sniffing, and ecg_read's checks
// (independent of any one format).
#include "test-util.h"

#include <cmath>

using kalium::lead_id;

TEST_CASE("lead labels map to the standard leads", "[ecg]") {
    CHECK(kalium::lead_id_from_label("I") == lead_id::I);
    CHECK(kalium::lead_id_from_label("Lead II") == lead_id::II);
    CHECK(kalium::lead_id_from_label("leadIII") == lead_id::III);
    CHECK(kalium::lead_id_from_label("AVR") == lead_id::aVR);
    CHECK(kalium::lead_id_from_label("aVL") == lead_id::aVL);
    CHECK(kalium::lead_id_from_label("MDC_ECG_LEAD_AVF") == lead_id::aVF);
    CHECK(kalium::lead_id_from_label("V1") == lead_id::V1);
    CHECK(kalium::lead_id_from_label("lead_v6") == lead_id::V6);
    CHECK(kalium::lead_id_from_label("MLII") == lead_id::other);
    CHECK(kalium::lead_id_from_label("PLETH") == lead_id::other);
    CHECK(kalium::lead_id_from_label("") == lead_id::other);
    CHECK(std::string(kalium::lead_id_name(lead_id::aVF)) == "aVF");
}

TEST_CASE("missing limb leads are derived by Einthoven and Goldberger and marked", "[ecg]") {
    kalium::ecg_record r;
    r.fs_hz = 500;
    kalium::ecg_lead i, ii, v1;
    i.name = "I"; i.id = lead_id::I; i.samples_uv = {100, 200, -50};
    ii.name = "II"; ii.id = lead_id::II; ii.samples_uv = {300, -100, 50};
    v1.name = "V1"; v1.id = lead_id::V1; v1.samples_uv = {1, 2, 3};
    r.leads = {v1, ii, i};
    kalium::ecg_derive_missing_limb_leads(r);
    kalium::ecg_sort_leads(r);
    REQUIRE(r.leads.size() == 7);
    const char *order[] = {"I", "II", "III", "aVR", "aVL", "aVF", "V1"};
    for (size_t k = 0; k < 7; k++) CHECK(r.leads[k].name == order[k]);
    const kalium::ecg_lead *iii = r.find(lead_id::III), *avr = r.find(lead_id::aVR), *avl = r.find(lead_id::aVL),
                           *avf = r.find(lead_id::aVF);
    REQUIRE((iii && avr && avl && avf));
    CHECK(iii->derived);
    CHECK_FALSE(r.find(lead_id::I)->derived);
    for (size_t t = 0; t < 3; t++) {
        float a = i.samples_uv[t], b = ii.samples_uv[t];
        CHECK(iii->samples_uv[t] == Approx(b - a));
        CHECK(avr->samples_uv[t] == Approx(-(a + b) / 2));
        CHECK(avl->samples_uv[t] == Approx(a - b / 2));
        CHECK(avf->samples_uv[t] == Approx(b - a / 2));
        // Goldberger's leads sum to zero.
        CHECK(avr->samples_uv[t] + avl->samples_uv[t] + avf->samples_uv[t] == Approx(0).margin(1e-3));
    }
}

TEST_CASE("lead I is derived from II and III", "[ecg]") {
    kalium::ecg_record r;
    kalium::ecg_lead ii, iii;
    ii.name = "II"; ii.id = lead_id::II; ii.samples_uv = {300};
    iii.name = "III"; iii.id = lead_id::III; iii.samples_uv = {120};
    r.leads = {ii, iii};
    kalium::ecg_derive_missing_limb_leads(r);
    REQUIRE(r.find(lead_id::I));
    CHECK(r.find(lead_id::I)->samples_uv[0] == Approx(180));
    CHECK(r.find(lead_id::I)->derived);
    CHECK(r.leads.size() == 6);
}

TEST_CASE("formats are sniffed by content, not by name", "[ecg]") {
    std::vector<uint8_t> dicom(200, 0);
    dicom[128] = 'D'; dicom[129] = 'I'; dicom[130] = 'C'; dicom[131] = 'M';
    CHECK(kalium::ecg_sniff_format(dicom.data(), dicom.size()) == "dicom");
    auto philips = text_bytes("<?xml version=\"1.0\"?>\n<!-- x -->\n<restingecgdata xmlns=\"http://www3.medical.philips.com\">");
    CHECK(kalium::ecg_sniff_format(philips.data(), philips.size()) == "philips-xml");
    auto muse = text_bytes("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<!DOCTYPE RestingECG SYSTEM \"restecg.dtd\">\n<RestingECG>");
    CHECK(kalium::ecg_sniff_format(muse.data(), muse.size()) == "ge-muse-xml");
    auto aecg = text_bytes("<?xml version=\"1.0\"?><hl7:AnnotatedECG xmlns:hl7=\"urn:hl7-org:v3\">");
    CHECK(kalium::ecg_sniff_format(aecg.data(), aecg.size()) == "hl7-aecg");
    auto hea = text_bytes("# comment\n100 2 360 650000\n100.dat 212 200 11 1024 995 -22131 0 MLII\n");
    CHECK(kalium::ecg_sniff_format(hea.data(), hea.size()) == "wfdb");
    auto csv = text_bytes("I,II,III\n1,2,3\n4,5,6\n");
    CHECK(kalium::ecg_sniff_format(csv.data(), csv.size()) == "csv");
    auto other_xml = text_bytes("<?xml version=\"1.0\"?><svg></svg>");
    CHECK(kalium::ecg_sniff_format(other_xml.data(), other_xml.size()) == "");
    auto png = std::vector<uint8_t>{0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13};
    CHECK(kalium::ecg_sniff_format(png.data(), png.size()) == "");

    // UTF-16 with a byte-order mark (Philips 1.04).
    std::string text = "<?xml version=\"1.0\" encoding=\"utf-16\"?><restingecgdata>";
    std::vector<uint8_t> utf16 = {0xFF, 0xFE};
    for (char c : text) { utf16.push_back(static_cast<uint8_t>(c)); utf16.push_back(0); }
    CHECK(kalium::ecg_sniff_format(utf16.data(), utf16.size()) == "philips-xml");
}

TEST_CASE("ecg_read refuses what is not an ECG with a message naming the file", "[ecg]") {
    auto empty = std::vector<uint8_t>{};
    auto r0 = kalium::ecg_read(as_named("empty.xml", empty));
    CHECK_FALSE(r0.ok());
    CHECK(r0.error().message().find("empty.xml") != std::string::npos);

    auto text = text_bytes("Dear colleague, please find the ECG attached.\n");
    auto r1 = kalium::ecg_read(as_named("letter.txt", text));
    REQUIRE_FALSE(r1.ok());
    CHECK(r1.error().code() == kalium::status_code::bad_format);
    CHECK(r1.error().message().find("letter.txt") != std::string::npos);

    auto pdf = text_bytes("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n");
    auto r3 = kalium::ecg_read(as_named("report.pdf", pdf));
    REQUIRE_FALSE(r3.ok());
    CHECK(r3.error().code() == kalium::status_code::bad_format);
    CHECK(r3.error().message().find("report.pdf") != std::string::npos);
    CHECK(r3.error().message().find("not an ECG format") != std::string::npos);

    auto png = std::vector<uint8_t>{0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
    auto r4 = kalium::ecg_read(as_named("scan.png", png));
    REQUIRE_FALSE(r4.ok());
    CHECK(r4.error().message().find("not an ECG format") != std::string::npos);

    auto r2 = kalium::ecg_read(as_named("100.dat", std::vector<uint8_t>(64, 0x11)));
    REQUIRE_FALSE(r2.ok());
    CHECK(r2.error().message().find(".hea") != std::string::npos);
}

TEST_CASE("ecg_read_all pairs WFDB signal files with their header", "[ecg]") {
    auto hea = text_bytes("rec 1 500 4\nrec.dat 16 200 16 0 0 0 0 II\n");
    std::vector<uint8_t> dat = {0, 0, 200, 0, 56, 255, 0, 0};  // 0, 200, -200, 0 ADU at 200 ADU/mV
    auto lonely = std::vector<uint8_t>(10, 0);
    std::vector<kalium::named_bytes> files = {as_named("rec.dat", dat), as_named("rec.hea", hea), as_named("other.dat", lonely)};
    auto outcomes = kalium::ecg_read_all(files);
    REQUIRE(outcomes.size() == 2);  // rec.dat is consumed by rec.hea
    CHECK(outcomes[0].name == "rec.hea");
    CHECK(outcomes[1].name == "other.dat");
    CHECK_FALSE(outcomes[1].record.has_value());
    CHECK(outcomes[1].error.message().find(".hea") != std::string::npos);
}

TEST_CASE("implausible amplitudes are flagged, plausible ones are not", "[ecg]") {
    // A 1 Hz "ECG" of +-600 units in I, II, III at 500 Hz.
    std::string csv = "I,II,III\n";
    for (int t = 0; t < 2000; t++) {
        const int v = static_cast<int>(600 * std::sin(t * 2 * 3.14159265 / 500));
        csv += std::to_string(v) + "," + std::to_string(v) + "," + std::to_string(0) + "\n";
    }
    auto bytes = text_bytes(csv);
    auto has_warning = [](const kalium::ecg_record &r) {
        for (const std::string &w : r.warnings)
            if (w.find("implausibly") != std::string::npos) return true;
        return false;
    };
    kalium::read_options uv;  // 600 uV peaks: a normal ECG
    uv.csv_fs_hz = 500;
    uv.csv_uv_per_unit = 1;
    auto normal = kalium::ecg_read(as_named("normal.csv", bytes), {}, uv);
    REQUIRE(normal.ok());
    CHECK_FALSE(has_warning(normal.value()));
    kalium::read_options mv = uv;  // the same numbers read as millivolts: 1.2 V spans
    mv.csv_uv_per_unit = 1000;
    auto huge = kalium::ecg_read(as_named("huge.csv", bytes), {}, mv);
    REQUIRE(huge.ok());
    CHECK(has_warning(huge.value()));
}
