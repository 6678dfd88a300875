// ecg/test-read-hl7-aecg.cpp: the HL7 aECG reader, on the HL7 2003-12 example and its re-serialised twin from
// ecg-kit, and on handcrafted documents (namespace prefixes, units, annotations, broken inputs).
#include "test-util.h"

#include "ecg/readers.h"

#include <cmath>
#include <string>

using kalium::lead_id;

namespace {

kalium::result<kalium::ecg_record> read_text(const std::string &xml) {
    const std::vector<uint8_t> bytes = text_bytes(xml);
    return kalium::ecg_read(as_named("test.xml", bytes));
}

kalium::result<kalium::ecg_record> read_sample(const std::string &file) {
    const std::vector<uint8_t> bytes = read_bytes(shared_ecg("samples/hl7-aecg/" + file));
    return kalium::ecg_read(as_named(file, bytes));
}

// Handcrafted documents use the prefix "h:" for urn:hl7-org:v3, so every element is matched by local name.
std::string time_sequence(const std::string &increment = "<h:increment value=\"4\" unit=\"ms\"/>",
                          const std::string &type = "GLIST_TS") {
    return "<h:component><h:sequence><h:code code=\"TIME_ABSOLUTE\"/><h:value xsi:type=\"" + type +
           "\"><h:head value=\"20240102030405.500\"/>" + increment + "</h:value></h:sequence></h:component>";
}

std::string lead_sequence(const std::string &code, const std::string &digits, const std::string &scale = "2.5\" unit=\"uV",
                          const std::string &origin = "0\" unit=\"uV") {
    return "<h:component><h:sequence><h:code code=\"" + code + "\"/><h:value xsi:type=\"SLIST_PQ\"><h:origin value=\"" + origin +
           "\"/><h:scale value=\"" + scale + "\"/><h:digits>" + digits + "</h:digits></h:value></h:sequence></h:component>";
}

std::string series(const std::string &code, const std::string &sequences, const std::string &inside = "") {
    return "<h:series><h:code code=\"" + code + "\"/><h:component><h:sequenceSet>" + sequences +
           "</h:sequenceSet></h:component>" + inside + "</h:series>";
}

std::string document(const std::string &body, const std::string &before = "") {
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<h:AnnotatedECG xmlns:h=\"urn:hl7-org:v3\" "
           "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">" +
           before + "<h:component>" + body + "</h:component></h:AnnotatedECG>\n";
}

// Two leads, 4 samples each, 2.5 uV per digit.
std::string two_leads() { return lead_sequence("MDC_ECG_LEAD_I", "1 2 3 4") + lead_sequence("MDC_ECG_LEAD_II", "5 6 7 8"); }

void check_error(const std::string &xml, const char *key_word) {
    auto r = read_text(xml);
    REQUIRE_FALSE(r.ok());
    INFO(r.error().message());
    CHECK(r.error().message().find("hl7-aecg") != std::string::npos);
    CHECK(r.error().message().find(key_word) != std::string::npos);
}

}  // namespace

TEST_CASE("hl7-aecg: the HL7 example and its twin read with 12 leads at 500 Hz", "[ecg][hl7-aecg]") {
    for (const char *file : {"hl7_2003-12_Example_aECG.xml", "ecgkit_ecg_hl7.xml"}) {
        INFO(file);
        auto r = read_sample(file);
        REQUIRE(r.ok());
        const kalium::ecg_record &rec = r.value();
        CHECK(rec.format == "hl7-aecg");
        CHECK(rec.fs_hz == 500.0);  // <increment value="0.002" unit="s"/>
        CHECK(rec.sample_count() == 5000);
        CHECK(rec.duration_s() == Approx(10.0));
        REQUIRE(rec.leads.size() == 12);
        const char *order[] = {"I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"};
        for (size_t k = 0; k < 12; k++) {
            CHECK(rec.leads[k].name == order[k]);
            CHECK_FALSE(rec.leads[k].derived);  // all 12 are stored
            CHECK(rec.leads[k].units == "uV");
            CHECK(rec.leads[k].gain_adu_per_mv == Approx(400.0));  // 2.5 uV per digit
            CHECK(rec.leads[k].baseline_adu == 0.0);
        }
        // First digits of each lead as the file spells them, times scale 2.5 uV plus origin 0 uV.
        const kalium::ecg_lead *i = rec.find(lead_id::I), *v1 = rec.find(lead_id::V1), *avr = rec.find(lead_id::aVR);
        REQUIRE((i && v1 && avr));
        const int i_digits[] = {-2, -2, -2, -2, -3, -4, -3, -5}, v1_digits[] = {43, 43, 43, 43, 43, 42}, avr_digits[] = {4, 4, 4, 4, 5};
        for (size_t t = 0; t < 8; t++) CHECK(i->samples_uv[t] == Approx(2.5 * i_digits[t]));
        for (size_t t = 0; t < 6; t++) CHECK(v1->samples_uv[t] == Approx(2.5 * v1_digits[t]));
        for (size_t t = 0; t < 5; t++) CHECK(avr->samples_uv[t] == Approx(2.5 * avr_digits[t]));
        // The stored lead III obeys Einthoven: in this file its digits are exactly II - I.
        const kalium::ecg_lead *ii = rec.find(lead_id::II), *iii = rec.find(lead_id::III);
        REQUIRE((ii && iii));
        for (size_t t = 0; t < rec.sample_count(); t++) REQUIRE(std::fabs(iii->samples_uv[t] - (ii->samples_uv[t] - i->samples_uv[t])) < 0.01f);

        // Representative beats: the derivedSeries, 12 leads x 599 samples at 500 Hz; lead I begins 4 4 2, II 52 50 49.
        REQUIRE(rec.median);
        CHECK(rec.median->fs_hz == 500.0);
        REQUIRE(rec.median->leads.size() == 12);
        CHECK(rec.median->leads[0].name == "I");
        CHECK(rec.median->leads[0].id == lead_id::I);
        CHECK(rec.median->leads[1].name == "II");
        CHECK(rec.median->leads[9].name == "aVR");
        CHECK(rec.median->leads[0].samples_uv.size() == 599);
        CHECK(rec.median->leads[0].samples_uv[2] == Approx(5.0));
        CHECK(rec.median->leads[1].samples_uv[0] == Approx(130.0));

        // Metadata as the file states it.
        CHECK(rec.start_time == "2002-11-22T09:10:00");  // GLIST_TS head 20021122091000.000
        CHECK(rec.device == "Mortara Instrument, Inc. ELI250, software 5.3");
        CHECK(rec.patient.id == "SBJ-123");
        CHECK(rec.patient.sex == "male");
        CHECK(rec.patient.age_years == 46.0);  // "Reported Age" 46 a; the birth date 19530508 gives 49: a warning says so
        bool age_warning = false;
        for (const std::string &w : rec.warnings) age_warning = age_warning || w.find("reported age") != std::string::npos;
        CHECK(age_warning);
        CHECK(rec.cart.pr_ms == 148.0);
        CHECK(rec.cart.qrs_ms == 120.0);
        CHECK(rec.cart.qt_ms == 420.0);
        CHECK(rec.cart.qtc_ms == 443.0);
        CHECK(rec.cart.p_axis_deg == 44.0);
        CHECK(rec.cart.qrs_axis_deg == -61.0);
        CHECK(rec.cart.t_axis_deg == 86.0);
        CHECK_FALSE(rec.cart.hr_bpm);  // the file states no heart rate
        REQUIRE(rec.statements.size() == 1);
        CHECK(rec.statements[0] == "Sinus Rhythm");
    }
}

TEST_CASE("hl7-aecg: the re-serialised twin gives the same microvolts, sample by sample", "[ecg][hl7-aecg]") {
    auto a = read_sample("hl7_2003-12_Example_aECG.xml");
    auto b = read_sample("ecgkit_ecg_hl7.xml");
    REQUIRE((a.ok() && b.ok()));
    REQUIRE(a->leads.size() == b->leads.size());
    for (size_t k = 0; k < a->leads.size(); k++) {
        INFO("lead " << a->leads[k].name);
        REQUIRE(a->leads[k].name == b->leads[k].name);
        REQUIRE(a->leads[k].samples_uv == b->leads[k].samples_uv);
    }
    REQUIRE((a->median && b->median));
    for (size_t k = 0; k < a->median->leads.size(); k++) REQUIRE(a->median->leads[k].samples_uv == b->median->leads[k].samples_uv);
}

TEST_CASE("hl7-aecg: a handcrafted document with prefixes, units, origins and annotations", "[ecg][hl7-aecg]") {
    const std::string annotations =
        "<h:subjectOf><h:annotationSet>"
        "<h:component><h:annotation><h:code code=\"MDC_ECG_HEART_RATE\"/><h:value xsi:type=\"PQ\" value=\"75\" unit=\"bpm\"/>"
        "</h:annotation></h:component>"
        "<h:component><h:annotation><h:code code=\"MDC_ECG_TIME_PD_QTc\"/><h:value xsi:type=\"PQ\" value=\"0.41\" unit=\"s\"/>"
        "</h:annotation></h:component>"
        "<h:component><h:annotation><h:code code=\"MDC_ECG_INTERPRETATION\"/>"
        "<h:component><h:annotation><h:code code=\"MDC_ECG_INTERPRETATION_STATEMENT\"/><h:value xsi:type=\"ST\">Sinus rhythm</h:value>"
        "</h:annotation></h:component>"
        "<h:component><h:annotation><h:code code=\"MDC_ECG_INTERPRETATION_SUMMARY\"/><h:value xsi:type=\"ST\"> Normal ECG </h:value>"
        "</h:annotation></h:component></h:annotation></h:component>"
        // A per-beat QT nested in a beat annotation is not the cart's global QT.
        "<h:component><h:annotation><h:code code=\"MDC_ECG_BEAT\"/><h:component><h:annotation><h:code code=\"MDC_ECG_TIME_PD_QT\"/>"
        "<h:value xsi:type=\"PQ\" value=\"999\" unit=\"ms\"/></h:annotation></h:component></h:annotation></h:component>"
        "</h:annotationSet></h:subjectOf>";
    const std::string sequences = time_sequence() +
                                  // I: 2.5 uV per digit, origin 0: 2.5, -5, 7.5, 100.
                                  lead_sequence("MDC_ECG_LEAD_I", " 1\n-2\t+3  40 ") +
                                  // II: 0.005 mV (5 uV) per digit, origin 0.1 mV (100 uV): 100, 150, 50, 135.
                                  lead_sequence("MDC_ECG_LEAD_II", "0 10 -10 7", "0.005\" unit=\"mV", "0.1\" unit=\"mV") +
                                  // A right-sided chest lead keeps its own name.
                                  lead_sequence("MDC_ECG_LEAD_V4R", "4 3 2 1", "1\" unit=\"uV", "-50\" unit=\"uV");
    const std::string patient =
        "<h:effectiveTime><h:low value=\"20240102030405\"/></h:effectiveTime>"
        "<h:componentOf><h:timepointEvent><h:componentOf><h:subjectAssignment><h:subject><h:trialSubject>"
        "<h:id root=\"1.2.3\" extension=\"P-7\"/><h:subjectDemographicPerson><h:administrativeGenderCode code=\"F\"/>"
        "<h:birthTime value=\"19800103\"/></h:subjectDemographicPerson>"
        "</h:trialSubject></h:subject></h:subjectAssignment></h:componentOf></h:timepointEvent></h:componentOf>";
    auto r = read_text(document(series("RHYTHM", sequences, annotations), patient));
    REQUIRE(r.ok());
    const kalium::ecg_record &rec = r.value();
    CHECK(rec.fs_hz == 250.0);  // 4 ms
    REQUIRE(rec.sample_count() == 4);
    const kalium::ecg_lead *i = rec.find(lead_id::I), *ii = rec.find(lead_id::II);
    REQUIRE((i && ii));
    const float expected_i[] = {2.5f, -5.0f, 7.5f, 100.0f}, expected_ii[] = {100.0f, 150.0f, 50.0f, 135.0f};
    for (int t = 0; t < 4; t++) {
        CHECK(i->samples_uv[t] == Approx(expected_i[t]));
        CHECK(ii->samples_uv[t] == Approx(expected_ii[t]));
    }
    CHECK(ii->gain_adu_per_mv == Approx(200.0));
    CHECK(ii->baseline_adu == Approx(-20.0));
    CHECK(ii->units == "mV");
    // I and II present: III, aVR, aVL, aVF derived; V4R kept as an extra channel after them.
    REQUIRE(rec.leads.size() == 7);
    CHECK(rec.leads.back().name == "V4R");
    CHECK(rec.leads.back().samples_uv[0] == Approx(-46.0));
    CHECK(rec.find(lead_id::III)->derived);
    CHECK(rec.start_time == "2024-01-02T03:04:05.500");  // the GLIST_TS head beats effectiveTime/low
    CHECK(rec.patient.id == "P-7");
    CHECK(rec.patient.sex == "female");
    CHECK(rec.patient.age_years == 43.0);  // born 1980-01-03, recorded 2024-01-02: one day short of 44
    CHECK(rec.cart.hr_bpm == 75.0);
    CHECK(rec.cart.qtc_ms == Approx(410.0));
    CHECK_FALSE(rec.cart.qt_ms);
    REQUIRE(rec.statements.size() == 2);
    CHECK(rec.statements[0] == "Sinus rhythm");
    CHECK(rec.statements[1] == "Normal ECG");
    CHECK_FALSE(rec.median);
}

TEST_CASE("hl7-aecg: broken documents are rejected with clear errors", "[ecg][hl7-aecg]") {
    SECTION("digits with non-numbers") {
        check_error(document(series("RHYTHM", time_sequence() + lead_sequence("MDC_ECG_LEAD_I", "1 2 x3 4"))), "'x3' is not an integer");
    }
    SECTION("a digit that is a decimal") {
        check_error(document(series("RHYTHM", time_sequence() + lead_sequence("MDC_ECG_LEAD_I", "1 2.5"))), "not an integer");
    }
    SECTION("lead sequences of different lengths") {
        check_error(document(series("RHYTHM", time_sequence() + lead_sequence("MDC_ECG_LEAD_I", "1 2 3 4") +
                                                  lead_sequence("MDC_ECG_LEAD_II", "1 2 3"))),
                    "3 digits but lead I has 4");
    }
    SECTION("missing increment") { check_error(document(series("RHYTHM", time_sequence("") + two_leads())), "<increment>"); }
    SECTION("increment 0") {
        check_error(document(series("RHYTHM", time_sequence("<h:increment value=\"0\" unit=\"s\"/>") + two_leads())),
                    "not a positive sampling interval");
    }
    SECTION("increment in an unknown unit") {
        check_error(document(series("RHYTHM", time_sequence("<h:increment value=\"2\" unit=\"fortnight\"/>") + two_leads())),
                    "fortnight");
    }
    SECTION("unknown scale unit") {
        const std::string xml = document(series("RHYTHM", time_sequence() + lead_sequence("MDC_ECG_LEAD_I", "1 2", "2.5\" unit=\"furlong")));
        check_error(xml, "'furlong' is not a voltage");
        CHECK(read_text(xml).error().code() == kalium::status_code::unsupported);
    }
    SECTION("scale 0") {
        check_error(document(series("RHYTHM", time_sequence() + lead_sequence("MDC_ECG_LEAD_I", "1 2", "0\" unit=\"uV"))), "<scale> is 0");
    }
    SECTION("no rhythm series") { check_error(document(series("REPRESENTATIVE_BEAT", time_sequence() + two_leads())), "RHYTHM"); }
    SECTION("no time sequence") { check_error(document(series("RHYTHM", two_leads())), "TIME_ABSOLUTE"); }
    SECTION("no lead sequences") { check_error(document(series("RHYTHM", time_sequence())), "0 leads"); }
    SECTION("empty digits") {
        check_error(document(series("RHYTHM", time_sequence() + lead_sequence("MDC_ECG_LEAD_I", " "))), "0 samples");
    }
    SECTION("time as an explicit list") {
        check_error(document(series("RHYTHM", time_sequence("", "SLIST_TS") + two_leads())), "evenly spaced");
    }
    SECTION("a lead that is not SLIST_PQ") {
        std::string xml = document(series("RHYTHM", time_sequence() + two_leads()));
        xml.replace(xml.find("SLIST_PQ"), 8, "GLIST_PQ");
        check_error(xml, "SLIST_PQ");
    }
    SECTION("not XML, and XML of another kind") {
        check_error("<h:AnnotatedECG xmlns:h=\"urn:hl7-org:v3\"><h:component>", "XML");
        // ecg_read never sends another root element here; the reader refuses one all the same.
        const std::vector<uint8_t> other = text_bytes("<?xml version=\"1.0\"?><RestingECG/>");
        auto r = kalium::ecg::read_hl7_aecg(as_named("other.xml", other));
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message().find("<RestingECG>, not <AnnotatedECG>") != std::string::npos);
    }
}

TEST_CASE("hl7-aecg: broken representative beats are dropped with a warning", "[ecg][hl7-aecg]") {
    const std::string beats = "<h:derivation><h:derivedSeries><h:code code=\"REPRESENTATIVE_BEAT\"/><h:component><h:sequenceSet>" +
                              time_sequence() + lead_sequence("MDC_ECG_LEAD_I", "1 oops") +
                              "</h:sequenceSet></h:component></h:derivedSeries></h:derivation>";
    auto r = read_text(document(series("RHYTHM", time_sequence() + two_leads(), beats)));
    REQUIRE(r.ok());
    CHECK_FALSE(r->median);
    REQUIRE(r->warnings.size() == 1);
    CHECK(r->warnings[0].find("representative beats") != std::string::npos);
    CHECK(r->warnings[0].find("'oops'") != std::string::npos);
}
