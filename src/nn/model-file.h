// nn/model-file.h: the weights container of model/FORMAT.md (also used for the golden vectors): magic,
// version, JSON header, named f32/f16 tensors. Parsing checks every bound; tensors come out as f32.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kalium.h"

namespace kalium {

struct model_tensor {
    std::vector<size_t> shape;
    std::vector<float> values;  // widened to f32
    size_t count() const {
        size_t n = 1;
        for (size_t d : shape) n *= d;
        return n;
    }
};

struct model_file {
    nlohmann::json header;                      // without "tensors"
    std::map<std::string, model_tensor> tensors;
};

constexpr char k_model_magic[8] = {'K', 'A', 'L', 'I', 'U', 'M', 'N', 'N'};
constexpr uint32_t k_model_format_version = 1;

// Parses a container; `what` names the file in messages ("model file", "golden file").
result<model_file> model_file_parse(const uint8_t *data, size_t size, const char *what);

// The tensor `name` of exactly `shape`; otherwise a bad_format status saying it is missing or its shape.
status model_file_need(const model_file &file, const std::string &name, const std::vector<size_t> &shape,
                       const model_tensor **out);

// IEEE binary16 -> binary32 (exact).
float half_to_float(uint16_t h);

}  // namespace kalium
