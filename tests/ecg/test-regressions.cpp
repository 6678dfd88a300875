// Tests: every input the fuzzers found crashing (tests/fuzz/regressions, listed in INDEX.tsv) now gives a clean
// error. Run under the asan preset these also prove the fix: the original fault was a sanitizer report.
#include "test-util.h"

#include "ecg/readers.h"
#include "fuzz/fuzz-util.h"

#include <fstream>
#include <sstream>

namespace {

struct regression {
    std::string target, file, phrase;
};

std::vector<regression> read_index() {
    const std::string path = "tests/fuzz/regressions/INDEX.tsv";
    std::ifstream in(path);
    if (!in) FAIL("cannot open " << path << " (tests run from the repository root)");
    std::vector<regression> out;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream fields(line);
        regression r;
        std::getline(fields, r.target, '\t');
        std::getline(fields, r.file, '\t');
        std::getline(fields, r.phrase, '\t');
        out.push_back(r);
    }
    return out;
}

// The first error (or "" when everything read) of replaying `bytes` as fuzz target `target` does.
std::string replay(const std::string &target, const std::vector<uint8_t> &bytes) {
    const std::vector<kalium::named_bytes> files = kalium_fuzz::split_files(bytes.data(), bytes.size());
    if (target == "read-all") {
        const std::vector<kalium::ecg_read_outcome> outcomes = kalium::ecg_read_all(files);
        for (const kalium::ecg_read_outcome &o : outcomes) {
            if (o.record) continue;
            REQUIRE_FALSE(o.error.message().empty());
            return o.error.message();
        }
        return "";
    }
    if (target == "prepare") {
        const std::vector<kalium::named_bytes> companions(files.begin() + 1, files.end());
        const kalium::result<kalium::ecg_record> r = kalium::ecg_read(files.front(), companions);
        if (!r.ok()) return r.error().message();
        const kalium::result<kalium::network_input> in = kalium::ecg_prepare_input(r.value());
        return in.ok() ? "" : in.error().message();
    }
    if (target == "sniff") return kalium::ecg_sniff_format(bytes.data(), bytes.size()).empty() ? "not recognised" : "";
    // One reader: what fuzz-reader.cpp does (WFDB inputs are a header and its signal files).
    const kalium::named_bytes file = target == "wfdb" ? files.front() : as_named("fuzz-input", bytes);
    const std::vector<kalium::named_bytes> companions =
        target == "wfdb" ? std::vector<kalium::named_bytes>(files.begin() + 1, files.end()) : std::vector<kalium::named_bytes>{};
    const kalium::result<kalium::ecg_record> r = kalium::ecg_read(file, companions);
    return r.ok() ? "" : r.error().message();
}

}  // namespace

TEST_CASE("fuzz regressions: every minimised crash input gives a clean error", "[fuzz][regression]") {
    const std::vector<regression> index = read_index();
    REQUIRE_FALSE(index.empty());
    for (const regression &r : index) {
        INFO(r.target << "/" << r.file << ": expected '" << r.phrase << "'");
        const std::vector<uint8_t> bytes = read_bytes("tests/fuzz/regressions/" + r.target + "/" + r.file);
        const std::string error = replay(r.target, bytes);
        INFO("got: " << error);
        CHECK(error.find(r.phrase) != std::string::npos);
    }
}
