// core/bytes.h: bounds-checked access to a byte buffer (little and big endian), for the binary readers.
// Every getter returns false instead of reading past the end; no reader indexes raw pointers itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

namespace kalium {

struct byte_span {
    const uint8_t *data = nullptr;
    size_t size = 0;

    byte_span() = default;
    byte_span(const uint8_t *d, size_t n) : data(d), size(n) {}

    // True when [offset, offset + count) lies inside the buffer (overflow-safe).
    bool has(size_t offset, size_t count) const { return offset <= size && count <= size - offset; }

    // The sub-span [offset, offset + count), or an empty span when it does not fit.
    byte_span sub(size_t offset, size_t count) const { return has(offset, count) ? byte_span(data + offset, count) : byte_span(); }
    // From offset to the end (empty when offset is past the end).
    byte_span tail(size_t offset) const { return offset <= size ? byte_span(data + offset, size - offset) : byte_span(); }

    // Integer or floating-point value stored little endian (le) or big endian (be) at offset.
    template <class T>
    bool le(size_t offset, T &out) const {
        static_assert(std::is_arithmetic<T>::value, "arithmetic types only");
        if (!has(offset, sizeof(T))) return false;
        uint8_t bytes[sizeof(T)];
        for (size_t i = 0; i < sizeof(T); i++) bytes[i] = data[offset + i];
        std::memcpy(&out, bytes, sizeof(T));  // host is little endian on every target kalium builds for
        return true;
    }
    template <class T>
    bool be(size_t offset, T &out) const {
        static_assert(std::is_arithmetic<T>::value, "arithmetic types only");
        if (!has(offset, sizeof(T))) return false;
        uint8_t bytes[sizeof(T)];
        for (size_t i = 0; i < sizeof(T); i++) bytes[i] = data[offset + sizeof(T) - 1 - i];
        std::memcpy(&out, bytes, sizeof(T));
        return true;
    }
    // `count` bytes at offset as text (no decoding), or false when they do not fit.
    bool text(size_t offset, size_t count, std::string &out) const {
        if (!has(offset, count)) return false;
        out.assign(reinterpret_cast<const char *>(data + offset), count);
        return true;
    }
};

static_assert(sizeof(float) == 4 && sizeof(double) == 8, "IEEE 754 single and double precision expected");

}  // namespace kalium
