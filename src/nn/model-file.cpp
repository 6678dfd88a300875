// nn/model-file.cpp: parsing the weights container (model/FORMAT.md) and its sha256 (mbedtls).
#include "nn/model-file.h"

#include <cctype>
#include <cstring>

#include "mbedtls/sha256.h"

namespace kalium {

status model_file_need(const model_file &file, const std::string &name, const std::vector<size_t> &shape,
                       const model_tensor **out) {
    const auto it = file.tensors.find(name);
    if (it == file.tensors.end()) return status::error(status_code::bad_format, "model file: tensor %s is missing", name.c_str());
    if (it->second.shape != shape) {
        std::string want, got;
        for (size_t d : shape) want += (want.empty() ? "" : "x") + std::to_string(d);
        for (size_t d : it->second.shape) got += (got.empty() ? "" : "x") + std::to_string(d);
        return status::error(status_code::bad_format, "model file: tensor %s has shape %s; the config needs %s", name.c_str(),
                             got.c_str(), want.c_str());
    }
    *out = &it->second;
    return status();
}

float half_to_float(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    uint32_t exponent = (h >> 10) & 0x1fu, mantissa = h & 0x3ffu, bits;
    if (exponent == 0x1f) {
        bits = sign | 0x7f800000u | (mantissa << 13);              // infinity or NaN
    } else if (exponent != 0) {
        bits = sign | ((exponent + 112u) << 23) | (mantissa << 13);  // normal: rebias 15 -> 127
    } else if (mantissa == 0) {
        bits = sign;                                                  // zero
    } else {                                                          // subnormal: normalise
        exponent = 113;
        while ((mantissa & 0x400u) == 0) {
            mantissa <<= 1;
            exponent--;
        }
        bits = sign | (exponent << 23) | ((mantissa & 0x3ffu) << 13);
    }
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

namespace {

uint32_t read_u32_le(const uint8_t *p) {
    return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
           static_cast<uint32_t>(p[3]) << 24;
}

size_t align64(size_t n) { return (n + 63) / 64 * 64; }

}  // namespace

result<model_file> model_file_parse(const uint8_t *data, size_t size, const char *what) {
    if (size < 16 || std::memcmp(data, k_model_magic, 8) != 0)
        return status::error(status_code::bad_format, "%s: not a kalium weights file (no KALIUMNN magic at offset 0)", what);
    const uint32_t version = read_u32_le(data + 8), header_len = read_u32_le(data + 12);
    if (version != k_model_format_version)
        return status::error(status_code::unsupported, "%s: format version %u; this build reads version %u", what,
                             version, k_model_format_version);
    if (header_len > size - 16)
        return status::error(status_code::bad_format, "%s: header length %u at offset 12 runs past the end (%zu bytes)",
                             what, header_len, size);
    const char *text = reinterpret_cast<const char *>(data + 16);
    nlohmann::json header = nlohmann::json::parse(text, text + header_len, nullptr, /*allow_exceptions=*/false);
    if (header.is_discarded() || !header.is_object())
        return status::error(status_code::bad_format, "%s: the header at offset 16 is not a JSON object", what);
    const auto tensors_it = header.find("tensors");
    if (tensors_it == header.end() || !tensors_it->is_array())
        return status::error(status_code::bad_format, "%s: the header has no \"tensors\" list", what);
    const size_t data_start = align64(16 + static_cast<size_t>(header_len));
    model_file file;
    for (const nlohmann::json &e : *tensors_it) {
        const auto name = e.find("name"), shape = e.find("shape"), dtype = e.find("dtype"), offset = e.find("offset"),
                   nbytes = e.find("nbytes");
        if (!e.is_object() || name == e.end() || !name->is_string() || shape == e.end() || !shape->is_array() ||
            dtype == e.end() || !dtype->is_string() || offset == e.end() || !offset->is_number_unsigned() ||
            nbytes == e.end() || !nbytes->is_number_unsigned())
            return status::error(status_code::bad_format, "%s: a tensor entry lacks name, shape, dtype, offset or nbytes", what);
        const std::string tensor_name = name->get<std::string>();
        model_tensor t;
        size_t count = 1;
        for (const nlohmann::json &d : *shape) {
            if (!d.is_number_unsigned() || d.get<uint64_t>() > (1u << 28))
                return status::error(status_code::bad_format, "%s: tensor %s has an invalid dimension", what, tensor_name.c_str());
            t.shape.push_back(d.get<size_t>());
            count *= t.shape.back();
            if (count > (size_t(1) << 28))
                return status::error(status_code::too_large, "%s: tensor %s is implausibly large", what, tensor_name.c_str());
        }
        const std::string type = dtype->get<std::string>();
        const size_t element = type == "f32" ? 4 : type == "f16" ? 2 : 0;
        if (element == 0)
            return status::error(status_code::unsupported, "%s: tensor %s has dtype \"%s\"; f32 and f16 are supported", what,
                                 tensor_name.c_str(), type.c_str());
        const uint64_t off = offset->get<uint64_t>(), len = nbytes->get<uint64_t>();
        if (len != count * element)
            return status::error(status_code::bad_format, "%s: tensor %s: nbytes %llu, but its shape and dtype need %zu", what,
                                 tensor_name.c_str(), static_cast<unsigned long long>(len), count * element);
        if (off > size || data_start > size - off || len > size - data_start - off)
            return status::error(status_code::bad_format, "%s: tensor %s (offset %llu, %llu bytes) lies outside the file (%zu bytes)",
                                 what, tensor_name.c_str(), static_cast<unsigned long long>(off),
                                 static_cast<unsigned long long>(len), size);
        const uint8_t *p = data + data_start + off;
        t.values.resize(count);
        for (size_t i = 0; i < count; i++) {
            if (element == 4) {
                const uint32_t bits = read_u32_le(p + 4 * i);
                std::memcpy(&t.values[i], &bits, 4);
            } else {
                t.values[i] = half_to_float(static_cast<uint16_t>(p[2 * i] | p[2 * i + 1] << 8));
            }
        }
        if (!file.tensors.emplace(tensor_name, std::move(t)).second)
            return status::error(status_code::bad_format, "%s: tensor %s appears twice", what, tensor_name.c_str());
    }
    header.erase("tensors");
    file.header = std::move(header);
    return file;
}

std::string sha256_hex(const uint8_t *data, size_t size) {
    unsigned char digest[32];
    mbedtls_sha256_ret(data, size, digest, /*is224=*/0);
    static const char hex[] = "0123456789abcdef";
    std::string out(64, '0');
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 15];
    }
    return out;
}

std::string sha256_from_manifest(std::string_view text) {
    for (size_t i = 0; i + 64 <= text.size(); i++) {
        size_t n = 0;
        while (n < 64 && std::isxdigit(static_cast<unsigned char>(text[i + n]))) n++;
        if (n == 64 && (i + 64 == text.size() || !std::isxdigit(static_cast<unsigned char>(text[i + 64])))) {
            std::string out(text.substr(i, 64));
            for (char &c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            return out;
        }
        i += n;
    }
    return "";
}

}  // namespace kalium
