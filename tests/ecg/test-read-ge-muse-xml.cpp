// ecg/test-read-ge-muse-xml.cpp: the GE MUSE RestingECG XML reader, on the three BRAVEHEART sample files and on
// handcrafted documents (metadata the samples lack, and broken inputs).
#include "test-util.h"

#include "ecg/readers.h"

#include <cmath>
#include <string>

using kalium::lead_id;

namespace {

kalium::result<kalium::ecg_record> read_text(const std::string &xml, const std::string &name = "test.xml") {
    const std::vector<uint8_t> bytes = text_bytes(xml);
    return kalium::ecg_read(as_named(name, bytes));
}

kalium::result<kalium::ecg_record> read_sample(const std::string &file) {
    const std::vector<uint8_t> bytes = read_bytes(shared_ecg("samples/ge-muse-xml/" + file));
    return kalium::ecg_read(as_named(file, bytes));
}

// One <LeadData>: 4.88 uV per bit unless told otherwise.
std::string lead_xml(const std::string &id, const std::string &count, const std::string &base64, const std::string &crc = "",
                     const std::string &units = "MICROVOLTS") {
    std::string x = "<LeadData><LeadByteCountTotal>" + std::to_string(std::stoi(count) * 2) + "</LeadByteCountTotal>"
                    "<LeadSampleCountTotal>" + count + "</LeadSampleCountTotal>"
                    "<LeadAmplitudeUnitsPerBit>4.88</LeadAmplitudeUnitsPerBit>"
                    "<LeadAmplitudeUnits>" + units + "</LeadAmplitudeUnits>"
                    "<LeadID>" + id + "</LeadID><LeadSampleSize>2</LeadSampleSize>";
    if (!crc.empty()) x += "<LeadDataCRC32>" + crc + "</LeadDataCRC32>";
    return x + "<WaveFormData>" + base64 + "</WaveFormData></LeadData>";
}

std::string waveform_xml(const std::string &type, const std::string &leads, const std::string &rate = "<SampleBase>500</SampleBase>") {
    return "<Waveform><WaveformType>" + type + "</WaveformType>" + rate + "<SampleExponent>0</SampleExponent>" + leads +
           "</Waveform>";
}

// Lead I holds int16 1, -2, 300, -32768: bytes 01 00 FE FF 2C 01 00 80, base64 "AQD+/ywBAIA=" (A=0 Q=16 D=3 +=62 gives
// 000000 010000 000011 111110 = 0x01 0x00 0xFE ...). Lead II holds 0, 10, -10, 32767: 00 00 0A 00 F6 FF FF 7F.
// CRCs by zlib.crc32 of those bytes.
const std::string k_lead_i = lead_xml("I", "4", "AQD+/ywBAIA=", "1256888707");
const std::string k_lead_ii = lead_xml("II", "4", "AAAKAPb//38=", "2326925382");

std::string muse_document(const std::string &waveforms, const std::string &extra = "") {
    return "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<!DOCTYPE RestingECG SYSTEM \"restecg.dtd\">\n<RestingECG>"
           "<MuseInfo><MuseVersion>9.0.9.18167</MuseVersion></MuseInfo>" +
           extra + waveforms + "</RestingECG>\n";
}

std::string valid_rhythm() { return waveform_xml("Rhythm", k_lead_i + k_lead_ii); }

void check_error(const std::string &xml, const char *key_word) {
    auto r = read_text(xml);
    REQUIRE_FALSE(r.ok());
    INFO(r.error().message());
    CHECK(r.error().message().find("ge-muse-xml") != std::string::npos);
    CHECK(r.error().message().find(key_word) != std::string::npos);
}

}  // namespace

TEST_CASE("ge-muse-xml: the BRAVEHEART examples read with their leads, rate, samples and measurements", "[ecg][ge-muse-xml]") {
    struct expected {
        const char *file;
        // First rhythm samples of lead I and V6 and first median sample of lead I, int16 decoded by hand from the
        // first base64 characters of each <WaveFormData>.
        int rhythm_i[2], rhythm_v6[2], median_i;
        double hr, pr, qrs, qt, qtc, p_axis, r_axis, t_axis;
    };
    // example1 rhythm I "7P/s/+z/" -> EC FF EC FF EC FF = -20, -20; V6 "8v/y//L/" -> F2 FF F2 FF = -14, -14;
    //          median I "AwAC" -> 03 00 02 = 3.
    // example2 rhythm I "AgACAAIA" -> 02 00 02 00 = 2, 2; V6 "BAAEAAQA" -> 04 00 04 00 = 4, 4; median I "BgAF" -> 06 00 05 = 6.
    // example3 rhythm I "9P/0//T/" -> F4 FF F4 FF = -12, -12; V6 "+P/4//j/" -> F8 FF F8 FF = -8, -8; median I "BQAF" -> 5.
    // Measurements as <RestingECGMeasurements> states them (VR and QTc also in the MANIFEST); example2 and example3
    // have QTc 436 / 431 in <OriginalRestingECGMeasurements>: the confirmed values must win.
    const expected files[] = {
        {"braveheart_example1.xml", {-20, -20}, {-14, -14}, 3, 48, 138, 96, 452, 403, 51, 20, 40},
        {"braveheart_example2.xml", {2, 2}, {4, 4}, 6, 65, 184, 100, 420, 437, 42, -2, 12},
        {"braveheart_example3.xml", {-12, -12}, {-8, -8}, 5, 59, 164, 106, 436, 432, 44, 20, 14},
    };
    for (const expected &e : files) {
        INFO(e.file);
        auto r = read_sample(e.file);
        REQUIRE(r.ok());
        const kalium::ecg_record &rec = r.value();
        CHECK(rec.format == "ge-muse-xml");
        CHECK(rec.format_detail == "MUSE 9.0.7.17363");
        CHECK(rec.fs_hz == 500.0);
        CHECK(rec.sample_count() == 5000);
        CHECK(rec.duration_s() == Approx(10.0));
        // 8 stored leads, III/aVR/aVL/aVF derived by ecg_read; standard order.
        REQUIRE(rec.leads.size() == 12);
        const char *order[] = {"I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"};
        for (size_t k = 0; k < 12; k++) {
            CHECK(rec.leads[k].name == order[k]);
            CHECK(rec.leads[k].derived == (k >= 2 && k <= 5));
        }
        const kalium::ecg_lead *i = rec.find(lead_id::I), *v6 = rec.find(lead_id::V6);
        REQUIRE((i && v6));
        CHECK(i->units == "MICROVOLTS");
        CHECK(i->gain_adu_per_mv == Approx(1000.0 / 4.88));
        for (int t = 0; t < 2; t++) {
            CHECK(i->samples_uv[t] == Approx(e.rhythm_i[t] * 4.88));
            CHECK(v6->samples_uv[t] == Approx(e.rhythm_v6[t] * 4.88));
        }
        // Every sample is a whole number of 4.88 uV steps.
        for (float v : i->samples_uv) REQUIRE(std::fabs(v / 4.88 - std::round(v / 4.88)) < 1e-3);
        // The file's CRC-32s match, so the reader has nothing to warn about.
        CHECK(rec.warnings.empty());

        REQUIRE(rec.median);
        CHECK(rec.median->fs_hz == 500.0);
        REQUIRE(rec.median->leads.size() == 8);
        CHECK(rec.median->leads[0].name == "I");
        CHECK(rec.median->leads[0].id == lead_id::I);
        CHECK(rec.median->leads[7].name == "V6");
        CHECK(rec.median->leads[0].samples_uv.size() == 600);
        CHECK(rec.median->leads[0].samples_uv[0] == Approx(e.median_i * 4.88));

        CHECK(rec.cart.hr_bpm == e.hr);
        CHECK(rec.cart.pr_ms == e.pr);
        CHECK(rec.cart.qrs_ms == e.qrs);
        CHECK(rec.cart.qt_ms == e.qt);
        CHECK(rec.cart.qtc_ms == e.qtc);
        CHECK(rec.cart.p_axis_deg == e.p_axis);
        CHECK(rec.cart.qrs_axis_deg == e.r_axis);
        CHECK(rec.cart.t_axis_deg == e.t_axis);
        // De-identified: no demographics, no acquisition date, no statements; the cart id is in <PharmaData>.
        CHECK(rec.start_time.empty());
        CHECK(rec.patient.id.empty());
        CHECK(rec.statements.empty());
        CHECK(rec.device.rfind("cart SKJ", 0) == 0);
    }
}

TEST_CASE("ge-muse-xml: a handcrafted file gives its samples, demographics and statements", "[ecg][ge-muse-xml]") {
    const std::string extra =
        "<PatientDemographics><PatientID>JAX01234</PatientID><PatientAge>60</PatientAge><AgeUnits>YEARS</AgeUnits>"
        "<Gender>FEMALE</Gender></PatientDemographics>"
        "<TestDemographics><AcquisitionDevice>MAC55</AcquisitionDevice><AcquisitionTime>13:15:18</AcquisitionTime>"
        "<AcquisitionDate>05-10-2021</AcquisitionDate><CartNumber>56</CartNumber>"
        "<AcquisitionSoftwareVersion>010B</AcquisitionSoftwareVersion></TestDemographics>"
        "<RestingECGMeasurements><VentricularRate>72</VentricularRate><QTCorrected>416</QTCorrected></RestingECGMeasurements>"
        "<Diagnosis><DiagnosisStatement><StmtFlag>ENDSLINE</StmtFlag><StmtText>Sinus rhythm</StmtText></DiagnosisStatement>"
        "<DiagnosisStatement><StmtText>Lateral infarct</StmtText></DiagnosisStatement>"
        "<DiagnosisStatement><StmtFlag>ENDSLINE</StmtFlag><StmtText>, age undetermined</StmtText></DiagnosisStatement>"
        "<DiagnosisStatement><StmtFlag>ENDSLINE</StmtFlag><StmtText>Anomalie \xE9lectrique</StmtText></DiagnosisStatement>"
        "</Diagnosis>"
        "<OriginalDiagnosis><DiagnosisStatement><StmtFlag>ENDSLINE</StmtFlag><StmtText>Unconfirmed</StmtText>"
        "</DiagnosisStatement></OriginalDiagnosis>";
    const std::string median = waveform_xml("Median", lead_xml("I", "2", "BQAGAA==") + lead_xml("II", "2", "BwD4/w=="),
                                            "<SampleBase>250</SampleBase>");
    auto r = read_text(muse_document(median + valid_rhythm(), extra));
    REQUIRE(r.ok());
    const kalium::ecg_record &rec = r.value();
    CHECK(rec.fs_hz == 500.0);
    REQUIRE(rec.sample_count() == 4);
    const kalium::ecg_lead *i = rec.find(lead_id::I), *ii = rec.find(lead_id::II), *iii = rec.find(lead_id::III);
    REQUIRE((i && ii && iii));
    const double expected_i[] = {1, -2, 300, -32768}, expected_ii[] = {0, 10, -10, 32767};
    for (int t = 0; t < 4; t++) {
        CHECK(i->samples_uv[t] == Approx(expected_i[t] * 4.88));
        CHECK(ii->samples_uv[t] == Approx(expected_ii[t] * 4.88));
        CHECK(iii->samples_uv[t] == Approx((expected_ii[t] - expected_i[t]) * 4.88));
    }
    CHECK(rec.warnings.empty());
    CHECK(rec.patient.id == "JAX01234");
    CHECK(rec.patient.age_years == 60.0);
    CHECK(rec.patient.sex == "female");
    CHECK(rec.start_time == "2021-05-10T13:15:18");
    CHECK(rec.device == "MAC55, software 010B, cart 56");
    CHECK(rec.cart.hr_bpm == 72.0);
    CHECK(rec.cart.qtc_ms == 416.0);
    CHECK_FALSE(rec.cart.pr_ms);
    // Fragments join up to ENDSLINE; ISO-8859-1 e-acute (0xE9) arrives as UTF-8; <Diagnosis> wins over the original.
    REQUIRE(rec.statements.size() == 3);
    CHECK(rec.statements[0] == "Sinus rhythm");
    CHECK(rec.statements[1] == "Lateral infarct, age undetermined");
    CHECK(rec.statements[2] == "Anomalie \xC3\xA9lectrique");
    // Median on its own time base: 5, 6 and 7, -8 (bytes 05 00 06 00 and 07 00 F8 FF).
    REQUIRE(rec.median);
    CHECK(rec.median->fs_hz == 250.0);
    REQUIRE(rec.median->leads.size() == 2);
    CHECK(rec.median->leads[1].samples_uv[1] == Approx(-8 * 4.88));
}

TEST_CASE("ge-muse-xml: units, exponents and CRC mismatches", "[ecg][ge-muse-xml]") {
    SECTION("MILLIVOLTS per bit are converted to microvolts") {
        // 0.005 mV per bit = 5 uV per bit.
        std::string lead = lead_xml("I", "4", "AQD+/ywBAIA=", "", "MILLIVOLTS");
        lead.replace(lead.find("4.88"), 4, "0.005");
        auto r = read_text(muse_document(waveform_xml("Rhythm", lead)));
        REQUIRE(r.ok());
        CHECK(r->leads[0].samples_uv[2] == Approx(1500.0));
        CHECK(r->leads[0].gain_adu_per_mv == Approx(200.0));
    }
    SECTION("SampleExponent scales SampleBase") {
        auto r = read_text(muse_document(waveform_xml("Rhythm", k_lead_i, "<SampleBase>25</SampleBase>")));
        REQUIRE(r.ok());
        CHECK(r->fs_hz == 25.0);
        std::string xml = muse_document(waveform_xml("Rhythm", k_lead_i, "<SampleBase>25</SampleBase>"));
        xml.replace(xml.find("<SampleExponent>0"), 17, "<SampleExponent>1");
        auto r10 = read_text(xml);
        REQUIRE(r10.ok());
        CHECK(r10->fs_hz == 250.0);
    }
    SECTION("a CRC-32 that disagrees with the data is a warning, not an error") {
        auto r = read_text(muse_document(waveform_xml("Rhythm", lead_xml("I", "4", "AQD+/ywBAIA=", "1256888708"))));
        REQUIRE(r.ok());
        REQUIRE(r->warnings.size() == 1);
        CHECK(r->warnings[0].find("CRC-32") != std::string::npos);
        CHECK(r->leads[0].samples_uv[0] == Approx(4.88));
    }
    SECTION("a broken Median waveform is dropped with a warning") {
        const std::string median = waveform_xml("Median", lead_xml("I", "4", "!!!!"));
        auto r = read_text(muse_document(median + valid_rhythm()));
        REQUIRE(r.ok());
        CHECK_FALSE(r->median);
        REQUIRE(r->warnings.size() == 1);
        CHECK(r->warnings[0].find("median") != std::string::npos);
    }
}

TEST_CASE("ge-muse-xml: broken files are rejected with clear errors", "[ecg][ge-muse-xml]") {
    SECTION("invalid base64") { check_error(muse_document(waveform_xml("Rhythm", lead_xml("I", "4", "AQD+/y*BAIA="))), "base64"); }
    SECTION("sample count that disagrees with the decoded bytes") {
        check_error(muse_document(waveform_xml("Rhythm", lead_xml("I", "5", "AQD+/ywBAIA="))), "decodes to 8 bytes");
    }
    SECTION("zero samples") { check_error(muse_document(waveform_xml("Rhythm", lead_xml("I", "0", ""))), "LeadSampleCountTotal"); }
    SECTION("missing SampleBase") { check_error(muse_document(waveform_xml("Rhythm", k_lead_i, "")), "SampleBase"); }
    SECTION("SampleBase that is not a number") {
        check_error(muse_document(waveform_xml("Rhythm", k_lead_i, "<SampleBase>fast</SampleBase>")), "SampleBase");
    }
    SECTION("unknown amplitude units") {
        auto xml = muse_document(waveform_xml("Rhythm", lead_xml("I", "4", "AQD+/ywBAIA=", "", "FURLONGS")));
        check_error(xml, "FURLONGS");
        CHECK(read_text(xml).error().code() == kalium::status_code::unsupported);
    }
    SECTION("amplitude per bit that is not positive") {
        std::string lead = lead_xml("I", "4", "AQD+/ywBAIA=");
        lead.replace(lead.find("4.88"), 4, "-1");
        check_error(muse_document(waveform_xml("Rhythm", lead)), "LeadAmplitudeUnitsPerBit");
    }
    SECTION("no Waveform") { check_error(muse_document(""), "no <Waveform>"); }
    SECTION("only a Median waveform") { check_error(muse_document(waveform_xml("Median", k_lead_i)), "Rhythm"); }
    SECTION("a Waveform with 0 leads") { check_error(muse_document(waveform_xml("Rhythm", "")), "0 leads"); }
    SECTION("leads of different lengths") {
        check_error(muse_document(waveform_xml("Rhythm", k_lead_i + lead_xml("II", "2", "BQAGAA=="))), "has 2 samples");
    }
    SECTION("a lead without LeadID") {
        std::string lead = k_lead_i;
        lead.replace(lead.find("<LeadID>I</LeadID>"), 18, "");
        check_error(muse_document(waveform_xml("Rhythm", lead)), "LeadID");
    }
    SECTION("truncated XML") {
        const std::string xml = muse_document(valid_rhythm());
        check_error(xml.substr(0, xml.size() / 2), "XML");
    }
    SECTION("another root element (ecg_read never sends one here; the reader refuses it all the same)") {
        const std::vector<uint8_t> other = text_bytes("<?xml version=\"1.0\"?><AnnotatedECG/>");
        auto r = kalium::ecg::read_ge_muse_xml(as_named("other.xml", other));
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message().find("<AnnotatedECG>, not <RestingECG>") != std::string::npos);
    }
    SECTION("a 4-byte sample size") {
        std::string lead = k_lead_i;
        lead.replace(lead.find("<LeadSampleSize>2"), 17, "<LeadSampleSize>4");
        check_error(muse_document(waveform_xml("Rhythm", lead)), "2-byte");
    }
}
