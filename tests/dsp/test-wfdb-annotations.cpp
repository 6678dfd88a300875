// dsp/test-wfdb-annotations.cpp: the WFDB annotation reader (MIT format) on handcrafted files, damaged files
// and the real MIT-BIH and LUDB annotation files.
#include "test-util.h"

namespace {

// One 16-bit little-endian word of code a and value i.
void put(std::vector<uint8_t> &b, int a, int i) {
    const unsigned w = (static_cast<unsigned>(a) << 10) | static_cast<unsigned>(i);
    b.push_back(static_cast<uint8_t>(w & 0xff));
    b.push_back(static_cast<uint8_t>(w >> 8));
}

}  // namespace

TEST_CASE("WFDB annotations: codes, time steps, SKIP, NUM, SUB, CHN and AUX", "[dsp][wfdb]") {
    std::vector<uint8_t> b;
    put(b, 1, 100);    // N at 100
    put(b, 61, 3);     // SUB 3 for it
    put(b, 5, 250);    // V at 350
    put(b, 62, 2);     // CHN 2 (persists)
    put(b, 60, 7);     // NUM 7 (persists)
    put(b, 59, 0);     // SKIP 70000: high word then low word
    put(b, 0, 1);      // 0x0001 -> high 16 bits = 1
    b.push_back(0x70); b.push_back(0x11);  // low 16 bits = 0x1170 = 4464 -> 65536 + 4464 = 70000
    put(b, 28, 0);     // '+' at 350 + 70000
    put(b, 63, 3);     // AUX of 3 bytes "(N\0", padded to 4
    b.push_back('('); b.push_back('N'); b.push_back(0); b.push_back(0);
    put(b, 39, 1023);  // '(' at 70350 + 1023
    put(b, 0, 0);      // end
    auto r = kalium::wfdb_read_annotations(b.data(), b.size(), "hand.atr");
    REQUIRE(r.ok());
    const auto &a = r.value();
    REQUIRE(a.size() == 4);
    CHECK(a[0].sample == 100);
    CHECK(a[0].symbol == 'N');
    CHECK(a[0].subtype == 3);
    CHECK(a[1].sample == 350);
    CHECK(a[1].symbol == 'V');
    CHECK(a[1].channel == 2);
    CHECK(a[1].number == 7);
    CHECK(a[1].subtype == 0);
    CHECK(a[2].sample == 70350);
    CHECK(a[2].symbol == '+');
    CHECK(a[2].aux == "(N");
    CHECK(a[2].channel == 2);  // persists
    CHECK(a[3].sample == 71373);
    CHECK(a[3].symbol == '(');
    CHECK(kalium::wfdb_is_beat_code(a[0].code));
    CHECK(kalium::wfdb_is_beat_code(a[1].code));
    CHECK_FALSE(kalium::wfdb_is_beat_code(a[2].code));
    CHECK_FALSE(kalium::wfdb_is_beat_code(a[3].code));
}

TEST_CASE("WFDB annotations: damaged files are refused with the byte offset", "[dsp][wfdb]") {
    std::vector<uint8_t> odd{0x10};
    auto r1 = kalium::wfdb_read_annotations(odd.data(), odd.size(), "odd.atr");
    REQUIRE_FALSE(r1.ok());
    CHECK(r1.error().message().find("odd.atr") != std::string::npos);

    std::vector<uint8_t> skip;
    put(skip, 59, 0);
    put(skip, 0, 1);  // only one of the two interval words
    auto r2 = kalium::wfdb_read_annotations(skip.data(), skip.size(), "skip.atr");
    REQUIRE_FALSE(r2.ok());
    CHECK(r2.error().message().find("SKIP at byte 0") != std::string::npos);

    std::vector<uint8_t> aux;
    put(aux, 1, 10);
    put(aux, 63, 40);  // 40 bytes announced, 2 given
    aux.push_back('x'); aux.push_back('y');
    auto r3 = kalium::wfdb_read_annotations(aux.data(), aux.size(), "aux.atr");
    REQUIRE_FALSE(r3.ok());
    CHECK(r3.error().message().find("AUX at byte 2") != std::string::npos);

    std::vector<uint8_t> orphan;
    put(orphan, 62, 1);  // CHN before any annotation
    auto r4 = kalium::wfdb_read_annotations(orphan.data(), orphan.size(), "orphan.atr");
    REQUIRE_FALSE(r4.ok());

    std::vector<uint8_t> bad_code;
    put(bad_code, 55, 1);  // not a code
    auto r5 = kalium::wfdb_read_annotations(bad_code.data(), bad_code.size(), "code.atr");
    REQUIRE_FALSE(r5.ok());
    CHECK(r5.error().message().find("code 55") != std::string::npos);
}

TEST_CASE("WFDB annotations: MIT-BIH 100.atr holds its 2273 beats (2239 N, 33 A, 1 V)", "[dsp][wfdb]") {
    const auto bytes = read_bytes(shared_ecg("samples/wfdb/mitdb_100/100.atr"));
    auto r = kalium::wfdb_read_annotations(bytes.data(), bytes.size(), "100.atr");
    REQUIRE(r.ok());
    int beats = 0, normal = 0, apc = 0, pvc = 0;
    int64_t last = -1;
    bool ordered = true;
    for (const auto &a : r.value()) {
        ordered = ordered && a.sample >= last;
        last = a.sample;
        if (!kalium::wfdb_is_beat_code(a.code)) continue;
        beats++;
        normal += a.symbol == 'N';
        apc += a.symbol == 'A';
        pvc += a.symbol == 'V';
    }
    CHECK(ordered);
    CHECK(beats == 2273);
    CHECK(normal == 2239);
    CHECK(apc == 33);
    CHECK(pvc == 1);
    CHECK(last < 650000);  // inside the 650000-sample record
}

TEST_CASE("WFDB annotations: LUDB 1.ii has P, QRS and T each as onset-peak-offset", "[dsp][wfdb]") {
    const auto bytes = read_bytes(shared_ecg("samples/wfdb/ludb_1/1.ii"));
    auto r = kalium::wfdb_read_annotations(bytes.data(), bytes.size(), "1.ii");
    REQUIRE(r.ok());
    const auto &a = r.value();
    REQUIRE(a.size() % 3 == 0);
    int waves[3] = {};
    for (size_t k = 0; k + 2 < a.size(); k += 3) {
        CHECK(a[k].symbol == '(');
        CHECK(a[k + 2].symbol == ')');
        CHECK(a[k].sample < a[k + 1].sample);
        CHECK(a[k + 1].sample < a[k + 2].sample);
        waves[0] += a[k + 1].symbol == 'p';
        waves[1] += a[k + 1].symbol == 'N';
        waves[2] += a[k + 1].symbol == 't';
    }
    CHECK(waves[0] == 5);
    CHECK(waves[1] == 6);
    CHECK(waves[2] == 5);
}
