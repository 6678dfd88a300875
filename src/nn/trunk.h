// nn/trunk.h: the trunk of ECG12Net (stem + 5 x (pool block + dense block)), shared by the 12 leads, which
// are its batch: input [12 leads, samples] -> features [12, width, channels] (NWC, H = 1 everywhere).
// Two builds of the same network on XNNPACK (internal to kalium_nn):
//   trunk-operators.cpp  f32 on XNNPACK's operator API: every unit writes its 32 channels straight into its
//                        slice of the block's buffer (no concatenation copies) and the k3 stride-1
//                        convolutions run as Winograd F(4,3) (winograd.h). What the app and the CLI run.
//   trunk-subgraph.cpp   one XNNPACK subgraph with direct convolutions and concatenations: the int8 trunk,
//                        and the f32 reference the Winograd build is tested against.
#pragma once

#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <pthreadpool.h>
#include <xnnpack.h>

#include "kalium.h"
#include "nn/model-file.h"

namespace kalium {

// The network's dimensions, from the weights file's model_config.
struct net_config {
    size_t samples = 1250, stem = 32, growth = 32, bottleneck = 128, attention_hidden = 8;
    std::vector<size_t> dense_units{3, 3, 6, 6, 3};
    bool has_groups = false;
};

constexpr size_t k_trunk_leads = k_standard_lead_count;                  // the batch
constexpr float k_no_clamp = std::numeric_limits<float>::infinity();     // XNNPACK output_max: no upper clamp

// One convolution's weights as PyTorch stores them (weight out x in x k, bias out), BN already folded.
struct conv_weights {
    std::vector<float> weight_oik, bias;
    // XNNPACK's filter layout, OHWI with H = 1: [out][k][in].
    std::vector<float> filter_ohwi(size_t cout, size_t cin, size_t k) const;
};

// Hands out the trunk's convolutions by prefix ("trunks.0.layers.3.convs.1.0"), checking their shapes, and
// releases the file's f32 copy as it goes, so the peak holds two copies of the trunk (ours for XNNPACK and
// XNNPACK's packed one) instead of three.
class trunk_weights {
public:
    explicit trunk_weights(model_file &file) : file_(file) {}
    result<conv_weights> take(const std::string &prefix, size_t cin, size_t cout, size_t k);

private:
    model_file &file_;
};

// Time per kind of step, averaged over the runs since the build (trunk_options::profile; benchmarks only).
struct trunk_step_time {
    std::string kind;
    double ms = 0;
    size_t count = 0;  // steps of this kind per run
    double macs = 0;   // their multiply-adds per run
};

class trunk {
public:
    virtual ~trunk() = default;
    virtual status run() = 0;  // input() -> features()
    virtual std::vector<trunk_step_time> profile() const { return {}; }
    float *input() { return input_; }
    float *features() { return features_; }
    size_t width() const { return width_; }
    size_t channels() const { return channels_; }

protected:
    float *input_ = nullptr, *features_ = nullptr;  // 12 x samples; 12 x width x channels
    size_t width_ = 0, channels_ = 0;
};

// Layer names and widths: the stem, then per stage its pool unit and dense units, as model/model.py numbers them.
std::string trunk_unit_prefix(size_t layer);                 // "trunks.0.layers.<layer>.convs."
size_t conv_output_width(size_t width_in, size_t k, size_t stride);  // 'same' padding k/2

status xnn_failure(const char *what, xnn_status s);
// xnn_initialize once, and in wasm the GEMM tile choice of BENCHMARKS.md.
status xnnpack_init();

struct trunk_options {
    bool int8 = false;       // subgraph only
    bool profile = false;    // operators only: time each step
    pthreadpool_t threadpool = nullptr;
};
result<std::unique_ptr<trunk>> build_trunk_operators(const net_config &cfg, trunk_weights &weights, const trunk_options &options);
result<std::unique_ptr<trunk>> build_trunk_subgraph(const net_config &cfg, trunk_weights &weights, const trunk_options &options);

}  // namespace kalium
