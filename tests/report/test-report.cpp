// report/test-report.cpp: the PDF report (src/report/report.h) and the analysis both the app's worker and
// `kalium report` run (src/report/analysis.h), on the real samples of ../shared/ecg read in place:
//   - every sample format gives a PDF; a file that cannot be read, or an entry without a result, gives a message
//     naming the file and no PDF;
//   - the reliability mark: a paced rhythm marks the estimate (number still given), a wide QRS never does;
//   - natively, as a reader sees the PDF: pdftotext finds the K+ and the file name; pdftoppm at 300 dpi shows the
//     5 mm grid lines 5 mm apart within 1 %; `kalium report` writes one PDF per ECG and none for bad input.
#include "test-util.h"

#include "analysis.h"
#include "report.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

namespace {

kalium::k_model &shipped_model() {
    static std::unique_ptr<kalium::k_model> model = [] {
        const std::vector<uint8_t> bytes = read_bytes(std::string(KALIUM_MODEL_DIR) + "/ecg12net-1.kmodel");
        auto m = kalium::k_model::load(bytes.data(), bytes.size());
        REQUIRE(m.ok());
        return std::move(m.value());
    }();
    return *model;
}

// Reads one ECG (a WFDB .hea with its signal files beside it) and analyses it as the worker does.
app_entry analysed(const std::string &relative) {
    const std::string path = shared_ecg(relative);
    std::vector<std::vector<uint8_t>> bytes{read_bytes(path)};
    std::vector<kalium::named_bytes> files{as_named(path, bytes[0])};
    if (path.size() > 4 && path.compare(path.size() - 4, 4, ".hea") == 0) {
        for (const char *ext : {".dat", ".mat"}) {
            const std::string companion = path.substr(0, path.size() - 4) + ext;
            if (FILE *f = std::fopen(companion.c_str(), "rb")) {
                std::fclose(f);
                bytes.push_back(read_bytes(companion));
                files.push_back(as_named(companion, bytes.back()));
            }
        }
    }
    auto outcomes = kalium::ecg_read_all(files);
    REQUIRE(!outcomes.empty());
    const std::string name = relative.substr(relative.find_last_of('/') + 1);
    kalium::analysis_output a = outcomes[0].record
        ? kalium::analysis_run(1, name, *outcomes[0].record, bytes[0].size(), &shipped_model(), 0.0, std::chrono::steady_clock::now())
        : kalium::analysis_failed(1, name, outcomes[0].error, bytes[0].size());
    app_entry e;
    e.id = 1;
    e.name = name;
    app_entry_set_result(e, a.json.c_str(), a.signal_uv.data(), a.lead_count, a.sample_count, a.cam.data(),
                         static_cast<int>(a.cam.size()));
    return e;
}

const char *const k_one_per_format[] = {
    "samples/wfdb/ludb_1/1.hea",
    "samples/wfdb/challenge2021/E07500.hea",
    "samples/philips-xml/sierra_1_04_ad4d3d80-d165_1-04_orig.xml",
    "samples/philips-xml/jsierraecg_PhilipsExample02.xml",
    "samples/ge-muse-xml/braveheart_example1.xml",
    "samples/hl7-aecg/hl7_2003-12_Example_aECG.xml",
    "samples/scp-ecg/ecgtoolkit_Example.scp",
    "samples/dicom/ecgtoolkit_Example.dcm",
    "samples/edf/contec_0000050.ECG.edf",
    "samples/csv/denismot_ECG_12L.csv",
};

bool is_pdf(const std::vector<uint8_t> &pdf) {
    const std::string text(pdf.begin(), pdf.end());
    return text.rfind("%PDF-1.", 0) == 0 && text.find("%%EOF", text.size() > 32 ? text.size() - 32 : 0) != std::string::npos;
}

}  // namespace

TEST_CASE("report: every sample format gives a one-page PDF") {
    for (const char *relative : k_one_per_format) {
        INFO(relative);
        const app_entry e = analysed(relative);
        REQUIRE(e.status == app_entry_status::done);
        for (kalium::report_paper paper : {kalium::report_paper::a4, kalium::report_paper::letter}) {
            auto pdf = kalium::report_pdf(e, {paper, "kalium test"});
            REQUIRE(pdf.ok());
            CHECK(is_pdf(pdf.value()));
            const std::string text(pdf.value().begin(), pdf.value().end());
            CHECK(text.find("/Type /Pages") != std::string::npos);
            CHECK(text.find("/Count 1") != std::string::npos);
            // the page's size: A4 or Letter landscape, in points
            const size_t box = text.find("/MediaBox [");
            REQUIRE(box != std::string::npos);
            double x0 = -1, y0 = -1, w = 0, h = 0;
            REQUIRE(std::sscanf(text.c_str() + box, "/MediaBox [ %lf %lf %lf %lf", &x0, &y0, &w, &h) == 4);
            const kalium::report_geometry g = kalium::report_page_geometry(paper);
            CHECK(std::abs(w - (paper == kalium::report_paper::a4 ? 841.89 : 792.0)) < 0.01);
            CHECK(std::abs(h - (paper == kalium::report_paper::a4 ? 595.28 : 612.0)) < 0.01);
            CHECK(std::abs(g.page_width_mm * 72.0 / 25.4 - w) < 0.01);
        }
    }
}

TEST_CASE("report: bad input gets a message naming the file, not a PDF") {
    // not an ECG: the reader's message travels into the entry, and the report refuses it with the file's name
    const std::vector<uint8_t> junk = text_bytes("this is a shopping list, not an ECG\n");
    auto outcomes = kalium::ecg_read_all({as_named("list.txt", junk)});
    REQUIRE(outcomes.size() == 1);
    REQUIRE(!outcomes[0].record);
    kalium::analysis_output a = kalium::analysis_failed(3, "list.txt", outcomes[0].error, junk.size());
    app_entry e;
    e.name = "list.txt";
    app_entry_set_result(e, a.json.c_str(), nullptr, 0, 0, nullptr, 0);
    CHECK(e.status == app_entry_status::failed);
    auto pdf = kalium::report_pdf(e);
    REQUIRE(!pdf.ok());
    CHECK(pdf.error().code() == kalium::status_code::invalid_argument);
    CHECK(pdf.error().message().find("list.txt") != std::string::npos);
    CHECK(pdf.error().message().find(outcomes[0].error.message()) != std::string::npos);

    // an entry still being analysed, and one whose signal is missing
    app_entry working;
    working.name = "pending.xml";
    auto p2 = kalium::report_pdf(working);
    REQUIRE(!p2.ok());
    CHECK(p2.error().message().find("pending.xml: no report for a file that was not analysed (still analysing)") != std::string::npos);
    app_entry e3 = analysed("samples/wfdb/ludb_1/1.hea");
    e3.signal_uv.resize(10);
    auto p3 = kalium::report_pdf(e3);
    REQUIRE(!p3.ok());
    CHECK(p3.error().message().find("1.hea: the analysis has no display signal") != std::string::npos);
}

TEST_CASE("report: a paced rhythm marks the estimate as less reliable, a wide QRS never does") {
    // LUDB 1 with a pacing spike (2 mV, one sample at 500 Hz) in every lead before each of 10 beats
    std::vector<uint8_t> hea = read_bytes(shared_ecg("samples/wfdb/ludb_1/1.hea"));
    std::vector<uint8_t> dat = read_bytes(shared_ecg("samples/wfdb/ludb_1/1.dat"));
    auto outcomes = kalium::ecg_read_all({as_named("1.hea", hea), as_named("1.dat", dat)});
    REQUIRE(outcomes.at(0).record);
    kalium::ecg_record paced = *outcomes[0].record;
    REQUIRE(paced.fs_hz == 500.0);
    for (kalium::ecg_lead &lead : paced.leads)
        for (size_t i = 300; i < lead.samples_uv.size(); i += 450) lead.samples_uv[i] += 2000.0f;
    const auto plain = kalium::analysis_run(1, "1.hea", *outcomes[0].record, 0, &shipped_model(), 0, std::chrono::steady_clock::now());
    const auto marked = kalium::analysis_run(1, "paced.hea", paced, 0, &shipped_model(), 0, std::chrono::steady_clock::now());
    const nlohmann::json jp = nlohmann::json::parse(plain.json), jm = nlohmann::json::parse(marked.json);
    CHECK(jp["reliability_reasons"].empty());
    CHECK(jp["reliability"] == "");
    REQUIRE(jm["reliability_reasons"].size() >= 1);
    CHECK(jm["reliability_reasons"][0] == "paced rhythm");
    CHECK(jm["reliability"].get<std::string>().rfind("paced rhythm", 0) == 0);
    CHECK(jm["reliability"].get<std::string>().find(": less reliable") != std::string::npos);
    CHECK(jm["k_plus"].is_number());  // the number is still given
    app_entry e;
    e.name = "paced.hea";
    app_entry_set_result(e, marked.json.c_str(), marked.signal_uv.data(), marked.lead_count, marked.sample_count,
                         marked.cam.data(), static_cast<int>(marked.cam.size()));
    CHECK(e.result.reliability_reasons.at(0) == "paced rhythm");

    // The FDA's aECG example: kalium measures its QRS at 120 ms (wide; the cart says 120 too), and that alone never
    // marks the estimate.
    std::vector<uint8_t> wide_bytes = read_bytes(shared_ecg("samples/hl7-aecg/hl7_2003-12_Example_aECG.xml"));
    auto o5 = kalium::ecg_read_all({as_named("aecg.xml", wide_bytes)});
    REQUIRE(o5.at(0).record);
    const auto wide = kalium::analysis_run(1, "aecg.xml", *o5[0].record, 0, &shipped_model(), 0, std::chrono::steady_clock::now());
    const nlohmann::json jw = nlohmann::json::parse(wide.json);
    REQUIRE(jw["measurements"]["qrs_ms"].is_number());
    CHECK(jw["measurements"]["qrs_ms"].get<double>() >= 120.0);
    CHECK(jw["reliability_reasons"].empty());

    // Every failed quality check is a reason (flat leads here), and the list names them.
    CHECK(kalium::ecg_reliability_reasons({{"V2", "flat", "lead V2: flat"}, {"II, V1", "pacing", "..."}}) ==
          std::vector<std::string>{"paced rhythm", "lead V2 flat"});
    CHECK(kalium::ecg_reliability_text({"paced rhythm"}) == "paced rhythm: less reliable");
    CHECK(kalium::ecg_reliability_text({}).empty());
    CHECK(std::string(kalium::ecg_reliability_status({})) == "ok");
    CHECK(std::string(kalium::ecg_reliability_status({"paced rhythm"})) == "less reliable");
}

TEST_CASE("report: a lead far outside the range is flagged") {
    app_result r;
    r.has_k_plus = true;
    r.k_plus = 4.4;
    r.has_k_range = true;
    r.k_low = 3.6;
    r.k_high = 5.3;
    CHECK(!kalium::report_lead_k_far(4.0, r));
    CHECK(!kalium::report_lead_k_far(6.2, r));
    CHECK(kalium::report_lead_k_far(6.4, r));
    CHECK(kalium::report_lead_k_far(2.5, r));
    CHECK(kalium::report_lead_k_far(-0.4, r));  // shown as "<1.5"
    CHECK(kalium::report_lead_k_far(11.1, r));  // shown as ">7.5"
    CHECK(kalium::report_file_name("dir/1.hea") == "1.pdf");
    CHECK(kalium::report_file_name("a.b.xml") == "a.b.pdf");
}

#ifndef __EMSCRIPTEN__
namespace {

std::string run(const std::string &command) {
    std::string out;
    FILE *p = popen(command.c_str(), "r");
    REQUIRE(p != nullptr);
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof(buffer), p)) > 0) out.append(buffer, n);
    const int status = pclose(p);
    out += "\n[exit " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + "]";
    return out;
}

std::string write_temp(const std::string &name, const std::vector<uint8_t> &bytes) {
    const std::string path = std::string(KALIUM_TEST_TMP) + "/" + name;
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char *>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return path;
}

// A binary PGM (P5, 8 bit) as pdftoppm -gray writes it.
struct gray_image {
    int width = 0, height = 0;
    std::vector<uint8_t> pixels;
    uint8_t at(int x, int y) const { return pixels[static_cast<size_t>(y) * static_cast<size_t>(width) + static_cast<size_t>(x)]; }
};
gray_image read_pgm(const std::string &path) {
    const std::vector<uint8_t> bytes = read_bytes(path);
    gray_image image;
    int max_value = 0, consumed = 0;
    REQUIRE(std::sscanf(reinterpret_cast<const char *>(bytes.data()), "P5 %d %d %d%n", &image.width, &image.height, &max_value, &consumed) == 3);
    REQUIRE(max_value == 255);
    const size_t offset = static_cast<size_t>(consumed) + 1;
    REQUIRE(bytes.size() == offset + static_cast<size_t>(image.width) * static_cast<size_t>(image.height));
    image.pixels.assign(bytes.begin() + static_cast<std::ptrdiff_t>(offset), bytes.end());
    return image;
}

// Centres (px) of the lines along one axis: positions where more than half of the cross-section is the 5 mm
// lines' shade (darker than the 1 mm lines and the paper, lighter than the trace).
std::vector<double> line_centres(const gray_image &img, bool vertical, int from, int to, int across_from, int across_to) {
    std::vector<double> centres;
    int run_start = -1;
    for (int p = from; p <= to + 1; p++) {
        int count = 0;
        if (p <= to)
            for (int q = across_from; q < across_to; q++) {
                const uint8_t v = vertical ? img.at(p, q) : img.at(q, p);
                count += v >= 110 && v <= 190;
            }
        const bool on = p <= to && count > (across_to - across_from) / 2;
        if (on && run_start < 0) run_start = p;
        if (!on && run_start >= 0) {
            centres.push_back((run_start + p - 1) / 2.0);
            run_start = -1;
        }
    }
    return centres;
}

}  // namespace

TEST_CASE("report: pdftotext finds the K+ estimate and the file name") {
    const app_entry e = analysed("samples/ge-muse-xml/braveheart_example1.xml");
    REQUIRE(e.status == app_entry_status::done);
    auto pdf = kalium::report_pdf(e);
    REQUIRE(pdf.ok());
    const std::string path = write_temp("report-text.pdf", pdf.value());
    const std::string text = run("pdftotext -layout '" + path + "' - 2>&1");
    INFO(text);
    CHECK(text.find("[exit 0]") != std::string::npos);
    CHECK(text.find("braveheart_example1.xml") != std::string::npos);
    CHECK(text.find(e.result.k_plus_display) != std::string::npos);
    CHECK(text.find("Estimated serum K+") != std::string::npos);
    CHECK(text.find(e.result.group_label) != std::string::npos);
    CHECK(text.find(e.result.model_sha256) != std::string::npos);
    CHECK(text.find("RESEARCH USE ONLY") != std::string::npos);
}

TEST_CASE("report: at 300 dpi the 5 mm grid lines are 5 mm apart within 1 %") {
    const app_entry e = analysed("samples/wfdb/ludb_1/1.hea");
    for (kalium::report_paper paper : {kalium::report_paper::a4, kalium::report_paper::letter}) {
        auto pdf = kalium::report_pdf(e, {paper, "kalium test"});
        REQUIRE(pdf.ok());
        const std::string path = write_temp("report-grid.pdf", pdf.value());
        const std::string prefix = std::string(KALIUM_TEST_TMP) + "/report-grid";
        REQUIRE(run("pdftoppm -r 300 -gray -singlefile '" + path + "' '" + prefix + "' 2>&1").find("[exit 0]") != std::string::npos);
        const gray_image img = read_pgm(prefix + ".pgm");
        const kalium::report_geometry g = kalium::report_page_geometry(paper);
        const double px_per_mm = 300.0 / 25.4;
        CHECK(std::abs(img.width - g.page_width_mm * px_per_mm) < 2.0);
        // inside the grid, 1 mm from its edges
        const int x0 = static_cast<int>((g.grid_left_mm + 1.0) * px_per_mm), x1 = static_cast<int>((g.grid_left_mm + g.grid_width_mm - 1.0) * px_per_mm);
        const int y0 = static_cast<int>((g.grid_top_mm + 1.0) * px_per_mm), y1 = static_cast<int>((g.grid_top_mm + g.grid_height_mm - 1.0) * px_per_mm);
        for (bool vertical : {true, false}) {
            INFO((vertical ? "vertical lines" : "horizontal lines"));
            const std::vector<double> c = vertical ? line_centres(img, true, x0, x1, y0, y1) : line_centres(img, false, y0, y1, x0, x1);
            const double span_mm = vertical ? g.grid_width_mm : g.grid_height_mm;
            // every 5 mm line inside (the two edges left out)
            CHECK(c.size() == static_cast<size_t>(std::lround(span_mm / 5.0)) - 1);
            REQUIRE(c.size() >= 2);
            for (size_t i = 1; i < c.size(); i++) {
                const double mm = (c[i] - c[i - 1]) / px_per_mm;
                INFO("line " << i << " at " << c[i] << " px: " << mm << " mm from the previous");
                CHECK(std::abs(mm - 5.0) <= 0.05);
            }
            const double mean_mm = (c.back() - c.front()) / (c.size() - 1) / px_per_mm;
            CHECK(std::abs(mean_mm - 5.0) <= 0.005);  // over the whole grid: far better than 1 %
        }
    }
}

TEST_CASE("report: kalium report writes one PDF per ECG and none for bad input") {
    const std::string dir = std::string(KALIUM_TEST_TMP) + "/report-cli";
    run("rm -rf '" + dir + "' && mkdir -p '" + dir + "'");
    const std::string junk = write_temp("not-an-ecg.xml", text_bytes("<html>no ECG here</html>"));
    const std::string out = run(std::string(KALIUM_CLI_PATH) + " report --out '" + dir + "' " + shared_ecg("samples/wfdb/ludb_1/1.hea") +
                                " '" + junk + "' " + shared_ecg("samples/scp-ecg/ecgtoolkit_Example.scp") + " 2>&1");
    INFO(out);
    CHECK(out.find("[exit 1]") != std::string::npos);  // one file failed
    CHECK(out.find("not-an-ecg.xml: ") != std::string::npos);
    CHECK(out.find("(no PDF written)") != std::string::npos);
    CHECK(out.find("-> " + dir + "/1.pdf") != std::string::npos);
    CHECK(out.find("-> " + dir + "/ecgtoolkit_Example.pdf") != std::string::npos);
    CHECK(is_pdf(read_bytes(dir + "/1.pdf")));
    CHECK(std::fopen((dir + "/not-an-ecg.pdf").c_str(), "rb") == nullptr);
    // --out x.pdf names the one PDF; with two ECGs it is a usage error
    const std::string one = run(std::string(KALIUM_CLI_PATH) + " report --paper letter --out '" + dir + "/x.pdf' " +
                                shared_ecg("samples/dicom/ecgtoolkit_Example.dcm") + " 2>&1");
    CHECK(one.find("[exit 0]") != std::string::npos);
    CHECK(is_pdf(read_bytes(dir + "/x.pdf")));
    const std::string two = run(std::string(KALIUM_CLI_PATH) + " report --out '" + dir + "/y.pdf' " + shared_ecg("samples/wfdb/ludb_1/1.hea") +
                                " " + shared_ecg("samples/dicom/ecgtoolkit_Example.dcm") + " 2>&1");
    CHECK(two.find("[exit 2]") != std::string::npos);
    CHECK(two.find("names one PDF but 2 ECG files were given") != std::string::npos);
}
#endif
