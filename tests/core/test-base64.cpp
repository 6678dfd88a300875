// core/test-base64.cpp: RFC 4648 test vectors and malformed input.
#include <catch2/catch.hpp>

#include "core/base64.h"

#include <string>

static std::string decode(const std::string &text, bool *ok) {
    std::vector<uint8_t> out;
    *ok = kalium::base64_decode(text, out);
    return std::string(out.begin(), out.end());
}

TEST_CASE("base64 decodes the RFC 4648 test vectors", "[core]") {
    bool ok = false;
    CHECK(decode("", &ok) == ""); CHECK(ok);
    CHECK(decode("Zg==", &ok) == "f"); CHECK(ok);
    CHECK(decode("Zm8=", &ok) == "fo"); CHECK(ok);
    CHECK(decode("Zm9v", &ok) == "foo"); CHECK(ok);
    CHECK(decode("Zm9vYg==", &ok) == "foob"); CHECK(ok);
    CHECK(decode("Zm9vYmE=", &ok) == "fooba"); CHECK(ok);
    CHECK(decode("Zm9v\r\n  YmFy\n", &ok) == "foobar"); CHECK(ok);
}

TEST_CASE("base64 rejects malformed input", "[core]") {
    bool ok = true;
    decode("Zm9v!", &ok); CHECK_FALSE(ok);       // character outside the alphabet
    decode("Zm9vY", &ok); CHECK_FALSE(ok);       // incomplete quantum
    decode("Zg==Zg==", &ok); CHECK_FALSE(ok);    // data after padding
    decode("Z===", &ok); CHECK_FALSE(ok);        // too much padding
}
