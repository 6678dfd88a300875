// Winograd F(4,3) (src/nn/winograd.h) against the direct 'same' k3 convolution + bias + ReLU, on widths that
// do and do not fill the last tile, narrower than one tile, and with a pixel stride wider than the channels.
#include "test-util.h"

#include "nn/winograd.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace {

// y[t][o] = max(0, b[o] + sum_{c, j} w[o][c][j] x[t + j - 1][c]), zero outside 0..width-1 (in double).
std::vector<double> direct(const std::vector<float> &x, size_t width, size_t cin, size_t x_stride, const std::vector<float> &w,
                           const std::vector<float> &bias, size_t cout) {
    std::vector<double> y(width * cout);
    for (size_t t = 0; t < width; t++)
        for (size_t o = 0; o < cout; o++) {
            double acc = bias[o];
            for (size_t j = 0; j < 3; j++) {
                const long s = long(t) + long(j) - 1;
                if (s < 0 || s >= long(width)) continue;
                for (size_t c = 0; c < cin; c++) acc += double(w[(o * cin + c) * 3 + j]) * x[size_t(s) * x_stride + c];
            }
            y[t * cout + o] = std::max(0.0, acc);
        }
    return y;
}

// The whole layer with the products done here (XNNPACK does them in the engine): V -> M[p] = U[p] V[p] -> y.
std::vector<float> winograd(const std::vector<float> &x, size_t width, size_t cin, size_t x_stride, const std::vector<float> &w,
                            const std::vector<float> &bias, size_t cout) {
    const size_t tiles = kalium::winograd_tiles(width), P = kalium::k_winograd_points;
    const std::vector<float> u = kalium::winograd_filter(w.data(), cout, cin);
    REQUIRE(u.size() == P * cout * cin);
    std::vector<float> zeros(cin, 0.0f), v(tiles * P * cin, std::nanf("")), m(tiles * P * cout, std::nanf(""));
    kalium::winograd_input(x.data(), width, cin, x_stride, zeros.data(), v.data());
    for (size_t t = 0; t < tiles; t++)
        for (size_t p = 0; p < P; p++)
            for (size_t o = 0; o < cout; o++) {
                float acc = 0.0f;
                for (size_t c = 0; c < cin; c++) acc += u[(p * cout + o) * cin + c] * v[(t * P + p) * cin + c];
                m[(t * P + p) * cout + o] = acc;
            }
    const size_t y_stride = cout + 3;  // the output may be a slice of a wider buffer too
    std::vector<float> y(width * y_stride + 1, -7.0f);
    kalium::winograd_output(m.data(), width, cout, bias.data(), y.data(), y_stride);
    CHECK(y.back() == -7.0f);  // nothing written past the last sample
    std::vector<float> dense(width * cout);
    for (size_t t = 0; t < width; t++)
        for (size_t o = 0; o < cout; o++) {
            dense[t * cout + o] = y[t * y_stride + o];
            if (o == 0 && t + 1 < width) CHECK(y[t * y_stride + cout] == -7.0f);  // the gap between pixels is untouched
        }
    return dense;
}

}  // namespace

TEST_CASE("Winograd F(4,3) equals the direct k3 convolution with bias and ReLU", "[nn][winograd]") {
    std::mt19937 rng(5);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    size_t positives = 0, outputs = 0;  // the ReLU must leave something to compare
    for (size_t width : {1u, 2u, 3u, 4u, 5u, 7u, 8u, 20u, 40u, 79u, 157u, 313u}) {
        for (const auto &[cin, cout, x_stride] : {std::tuple<size_t, size_t, size_t>{8, 8, 8}, {5, 3, 9}, {128, 16, 160}}) {
            std::vector<float> x(width * x_stride), w(cout * cin * 3), bias(cout);
            for (float &v : x) v = normal(rng);
            for (float &v : w) v = 0.2f * normal(rng);
            for (float &v : bias) v = 0.1f * normal(rng);
            const std::vector<double> want = direct(x, width, cin, x_stride, w, bias, cout);
            const std::vector<float> got = winograd(x, width, cin, x_stride, w, bias, cout);
            double worst = 0.0, scale = 1e-30;
            for (size_t i = 0; i < want.size(); i++) {
                worst = std::max(worst, std::abs(want[i] - got[i]));
                scale = std::max(scale, std::abs(want[i]));
                positives += want[i] > 0.0;
                outputs++;
            }
            INFO("width " << width << ", cin " << cin << ", cout " << cout << ": worst |dy| " << worst << " of max " << scale);
            CHECK(worst <= 2e-5 * scale * std::sqrt(double(cin)));
        }
    }
    CHECK(positives > outputs / 4);
}

TEST_CASE("Winograd filter transform: a unit tap passes its input through", "[nn][winograd]") {
    // w = (0, 1, 0) is the identity: every output equals its own input (after ReLU), tile edges included
    const size_t width = 11;
    std::vector<float> x(width), w = {0.0f, 1.0f, 0.0f}, bias = {0.0f};
    for (size_t t = 0; t < width; t++) x[t] = float(t) + 0.5f;
    const std::vector<float> y = winograd(x, width, 1, 1, w, bias, 1);
    for (size_t t = 0; t < width; t++) CHECK(y[t] == Approx(x[t]).margin(1e-5));
    // w = (1, 0, 0) reads the previous sample: the first output sees the zero padding
    w = {1.0f, 0.0f, 0.0f};
    const std::vector<float> shifted = winograd(x, width, 1, 1, w, bias, 1);
    CHECK(shifted[0] == Approx(0.0f).margin(1e-5));
    for (size_t t = 1; t < width; t++) CHECK(shifted[t] == Approx(x[t - 1]).margin(1e-5));
}
