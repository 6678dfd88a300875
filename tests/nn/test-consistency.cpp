// Tests: kalium predict's numbers are reproducible. Every sample file of ../shared/ecg/samples (listed in its
// MANIFEST.md) is read, prepared and predicted; a second prediction on the same model and one on a second
// model instance must give the same bits. The results go to KALIUM_CONSISTENCY_OUT (<build>/consistency.jsonl,
// one line per record) so that scripts/test can compare the native and wasm builds (|dK| <= 1e-4).
#include "test-util.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

namespace {

const std::string k_model_path = std::string(KALIUM_MODEL_DIR) + "/ecg12net-1.kmodel";

// The sample files MANIFEST.md lists ("| `csv/...` | ..."), relative to samples/.
std::vector<std::string> manifest_files() {
    const std::vector<uint8_t> bytes = read_bytes(shared_ecg("samples/MANIFEST.md"));
    std::istringstream text(std::string(bytes.begin(), bytes.end()));
    std::vector<std::string> files;
    std::string line;
    while (std::getline(text, line)) {
        if (line.rfind("| `", 0) != 0) continue;
        const size_t end = line.find('`', 3);
        if (end != std::string::npos) files.push_back(line.substr(3, end - 3));
    }
    return files;
}

std::unique_ptr<kalium::k_model> load_model() {
    const std::vector<uint8_t> bytes = read_bytes(k_model_path);
    const std::vector<uint8_t> manifest = read_bytes(k_model_path + ".sha256");
    kalium::model_options options;
    options.expected_sha256 = kalium::sha256_from_manifest(std::string(manifest.begin(), manifest.end()));
    auto model = kalium::k_model::load(bytes.data(), bytes.size(), options);
    if (!model.ok()) FAIL(model.error().to_string());
    return std::move(model).value();
}

// The numbers of a prediction, in the order they are compared and written.
std::vector<double> numbers(const kalium::k_prediction &p) {
    std::vector<double> v = {p.k_meq_l};
    for (double g : p.group_probs) v.push_back(g);
    for (float k : p.lead_k) v.push_back(k);
    for (float a : p.lead_attention) v.push_back(a);
    return v;
}

bool same_bits(const std::vector<double> &a, const std::vector<double> &b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

}  // namespace

TEST_CASE("consistency: every sample file predicts, bit for bit the same on every run, results written for native vs wasm",
          "[nn][consistency]") {
    const std::vector<std::string> listed = manifest_files();
    REQUIRE(listed.size() >= 40);
    // One read per directory + record name: a WFDB header takes its signal and annotation files along.
    std::map<std::string, std::vector<std::string>> groups;
    for (const std::string &f : listed) groups[f.substr(0, f.rfind('.'))].push_back(f);

    auto model = load_model();
    auto second = load_model();
    std::ofstream out(KALIUM_CONSISTENCY_OUT);
    REQUIRE(out);
    size_t predicted = 0, refused = 0;
    for (const auto &[stem, files] : groups) {
        std::vector<std::vector<uint8_t>> contents;
        std::vector<kalium::named_bytes> inputs;
        for (const std::string &f : files) contents.push_back(read_bytes(shared_ecg("samples/" + f)));
        for (size_t k = 0; k < files.size(); k++) inputs.push_back(as_named(files[k], contents[k]));
        for (const kalium::ecg_read_outcome &o : kalium::ecg_read_all(inputs)) {
            INFO(o.name);
            nlohmann::json line = {{"file", o.name}};
            kalium::result<kalium::network_input> input = o.record ? kalium::ecg_prepare_input(*o.record)
                                                                   : kalium::result<kalium::network_input>(o.error);
            if (!input.ok()) {
                line["error"] = input.error().message();
                out << line.dump() << "\n";
                refused++;
                continue;
            }
            const kalium::result<kalium::k_prediction> p1 = model->predict(input.value());
            const kalium::result<kalium::k_prediction> p2 = model->predict(input.value());
            const kalium::result<kalium::k_prediction> p3 = second->predict(input.value());
            REQUIRE(p1.ok());
            REQUIRE(p2.ok());
            REQUIRE(p3.ok());
            const std::vector<double> n1 = numbers(p1.value());
            CHECK(same_bits(n1, numbers(p2.value())));  // the same runtime again
            CHECK(same_bits(n1, numbers(p3.value())));  // a second runtime built from the same file
            CHECK(std::equal(p1->cam.begin(), p1->cam.end(), p3->cam.begin(), p3->cam.end()));
            line["k"] = n1[0];
            line["numbers"] = n1;
            out << line.dump() << "\n";
            predicted++;
        }
    }
    // The 12-lead samples predict; the 2- and 3-lead WFDB records and the non-conformant SCP file are refused.
    CHECK(predicted >= 30);
    CHECK(refused <= 8);
}
