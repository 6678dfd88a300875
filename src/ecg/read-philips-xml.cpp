// ecg/read-philips-xml.cpp: the Philips PageWriter / TraceMaster ("Sierra") XML reader (see readers.h for the
// contract).
//
// What it reads: the XML that Philips PageWriter carts, TraceMasterVue / IntelliSpace ECG and Philips' ECG
// translators write, root element <restingecgdata> (namespace http://www3.medical.philips.com, sometimes with a
// prefix), <documentinfo>/<documentversion> 1.03 ("SierraECG"), 1.04 and 1.04.x ("PhilipsECG"); PageWriter and
// TraceMasterVue files are often UTF-16 with a byte-order mark (pugixml's encoding detection handles it; three
// of the six samples, one of them 1.03). Philips publishes the XML
// schemas but not the waveform compression; what follows is what the files show and what the open-source
// readers (sierra-ecg-tools: SierraEcg.NET, sierraecg-js, pysierraecg; jsierraecg) agree on, checked against
// the six sample files:
//   - <waveforms>/<parsedwaveforms>: base64 text; in 1.04 its attributes give numberofleads, leadlabels,
//     samplespersecond, resolution (uV per ADC unit), signaloffset, bitspersample (16), durationperchannel (ms)
//     and compression ("XLI" or none); in 1.03 only compressflag/compressmethod and durationperchannel, the rest
//     being in <dataacquisition>/<signalcharacteristics> (samplingrate, signalresolution, numberchannelsvalid,
//     leadset STD-12 = the 12 standard leads in standard order).
//   - XLI compression: one chunk per lead, each an 8-byte little-endian header (int32 size of the compressed
//     data, int16 of unknown use (always 1), int16 `start`) followed by `size` bytes of LZW with 10-bit codes
//     (MSB first, dictionary 256..1022 never reset, code 1023 ends the chunk). The LZW output is 2n bytes: the
//     high bytes of n 16-bit codes, then their low bytes. The codes are a second-difference coding: x[0] and x[1]
//     are the first two samples, and x[i] = 2 x[i-1] - x[i-2] - r[i], where r[2] = `start` and r[i] = code[i-1]
//     - 64 afterwards. Arithmetic is 16-bit, as on the cart.
//   - Residual limb leads: in XLI data, leads III, aVR, aVL, aVF hold what the cart's own III and Goldberger
//     leads differ by from the values computed from I and II (quantisation, mostly 0 and +-1 ADC unit, and the
//     calibration pulse below):
//         III = II - I - r3, aVR = -(I + II)/2 - r4, aVL = (I - III)/2 - r5, aVF = (II + III)/2 - r6
//     with the halves truncated towards zero, as the cart's integer arithmetic does (SierraEcg.NET does so;
//     pysierraecg/sierraecg-js round down, which puts aVR/aVL/aVF off by one unit when the sum is odd and
//     negative: on two of the sample files, truncation puts every aVR/aVL/aVF sample within half a unit of its
//     Goldberger value and rounding down up to 1.5 units off). The reconstructed leads are the cart's own (they
//     are in the file, so not marked derived). Whether the stored leads are residuals is also checked on the
//     data (nearly all samples within a few units of zero), which decides it for uncompressed data too.
//   - Calibration pulse: the carts end every lead with zero padding, a 1 mV calibration pulse (200 ms) and more
//     zeros, inside durationperchannel (11 s for a 10 s ECG). That is not ECG: the reader ends the record
//     where the padding before the pulse begins and says so in a warning.
//   - <repbeats> (representative beats, one <repbeat leadname=".."> each, base64 int16 in the element (1.03) or
//     its <waveform> child (1.04)) -> record.median, at repbeats@samplespersec and repbeats@resolution uV. 1.03
//     PageWriter files state neither: the rhythm's rate and 2.5 uV per unit are assumed (the sample's beats
//     match its rhythm strip at exactly that scale) and a warning says so. 32767 marks "no sample" (NaN).
//   - Cart measurements: the machine's (1.03 <measurements>/<globalmeasurements>, 1.04 <internalmeasurements>/
//     <crossleadmeasurements>: meanventrate, meanprint, meanqrsdur, meanqtint, meanqtc, p/qrs/tfrontaxis), each
//     missing one taken from the interpretation's (<interpretationmeasurements> or <globalmeasurements>).
//   - Statements: per <interpretation>, the <severity> text, then each <statement> as "left: right".
//   - Patient: <generalpatientdata> patientid, sex, age (years/months/weeks/days, or date of birth and the
//     acquisition date; the defaultage attribute is a cart setting, not the patient's age). Start time:
//     <dataacquisition> date and time. Device: <machine> and its detaildescription.
// Not supported: dataencoding other than Base64 (the schema also allows Plain and Hex; no sample uses them),
// samples other than 16 bits, lead sets of 1.03 files other than STD-12 (their lead order is not stated).
#include "ecg/readers.h"
#include "ecg/xml.h"

#include "core/base64.h"
#include "core/bytes.h"
#include "core/format.h"
#include "core/text.h"

#include <pugixml.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace kalium::ecg {
namespace {

constexpr const char *k_format = "philips-xml";

// ---- small text and XML helpers ------------------------------------------------------------------------------

// Element name without its namespace prefix ("ph:machine" -> "machine").
const char *local_name(const char *name) {
    const char *colon = std::strrchr(name, ':');
    return colon ? colon + 1 : name;
}

// The first child element of `parent` with local name `name` (prefixes ignored), or a null node.
pugi::xml_node child(pugi::xml_node parent, const char *name) {
    for (pugi::xml_node node : parent.children())
        if (node.type() == pugi::node_element && std::strcmp(local_name(node.name()), name) == 0) return node;
    return pugi::xml_node();
}

// All child elements of `parent` with local name `name`, in document order.
std::vector<pugi::xml_node> children(pugi::xml_node parent, const char *name) {
    std::vector<pugi::xml_node> out;
    for (pugi::xml_node node : parent.children())
        if (node.type() == pugi::node_element && std::strcmp(local_name(node.name()), name) == 0) out.push_back(node);
    return out;
}

// Follows a path of child names ("dataacquisition/signalcharacteristics/samplingrate").
pugi::xml_node descend(pugi::xml_node node, const char *path) {
    std::string part;
    for (const char *p = path;; p++) {
        if (*p == '/' || *p == '\0') {
            node = child(node, part.c_str());
            if (!node || *p == '\0') return node;
            part.clear();
        } else {
            part.push_back(*p);
        }
    }
}

// The text of an element: a view of its one text child, or all of its text children joined in `storage` (so
// that a comment cannot cut it short). Valid while the document and `storage` live. Not trimmed.
std::string_view raw_text(pugi::xml_node node, std::string &storage) {
    size_t parts = 0, total = 0;
    const char *only = "";
    for (pugi::xml_node part : node.children())
        if (part.type() == pugi::node_pcdata || part.type() == pugi::node_cdata) {
            parts++;
            only = part.value();
            total += std::strlen(only);
        }
    if (parts <= 1) return std::string_view(only);
    storage.clear();
    storage.reserve(total);
    for (pugi::xml_node part : node.children())
        if (part.type() == pugi::node_pcdata || part.type() == pugi::node_cdata) storage += part.value();
    return storage;
}

// The trimmed text of an element.
std::string text_of(pugi::xml_node node) {
    std::string storage;
    std::string_view text = raw_text(node, storage);
    while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
    while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
    return std::string(text);
}

std::string text_at(pugi::xml_node node, const char *path) { return text_of(descend(node, path)); }

std::string attribute_text(pugi::xml_node node, const char *name) { return trimmed(node.attribute(name).value()); }

std::vector<std::string> split_words(const std::string &text) {
    std::vector<std::string> words;
    std::string word;
    for (char c : text + " ") {
        if (is_space(c)) {
            if (!word.empty()) words.push_back(word);
            word.clear();
        } else {
            word.push_back(c);
        }
    }
    return words;
}

// ---- XLI: LZW with 10-bit codes ---------------------------------------------------------------------------------

enum class lzw_outcome { ok, undefined_code, too_long };

struct lzw_result {
    lzw_outcome outcome = lzw_outcome::ok;
    size_t code_index = 0;  // for undefined_code: which code (from 0)
    unsigned code = 0;
    unsigned next_code = 0;
};

// Decodes one chunk of 10-bit LZW codes into `out`, stopping at code 1023, at the end of the chunk's whole codes,
// or with too_long before `out` would exceed `max_out_bytes`.
lzw_result lzw_decode(byte_span chunk, size_t max_out_bytes, std::vector<uint8_t> &out) {
    constexpr unsigned k_code_bits = 10, k_end_code = 1023, k_last_entry = 1022;
    // Dictionary: each entry is an earlier entry (prefix) plus one byte, as in every LZW decoder.
    uint16_t prefix[1024], length[1024];
    uint8_t last_byte[1024], first_byte[1024];
    for (unsigned c = 0; c < 256; c++) {
        prefix[c] = 0;
        length[c] = 1;
        last_byte[c] = first_byte[c] = static_cast<uint8_t>(c);
    }
    unsigned next_code = 256;
    int previous = -1;  // the code decoded last, -1 before the first
    lzw_result result;
    out.clear();
    out.reserve(std::min(max_out_bytes, chunk.size * 16));  // XLI rarely compresses 16-fold; the vector grows if so
    const size_t code_count = chunk.size * 8 / k_code_bits;
    for (size_t k = 0; k < code_count; k++) {
        // Codes are packed most significant bit first; a 10-bit code spans two or three bytes.
        const size_t bit = k * k_code_bits;
        uint32_t window = 0;
        for (size_t b = 0; b < 3; b++) {
            const size_t at = bit / 8 + b;
            window = (window << 8) | (at < chunk.size ? chunk.data[at] : 0u);
        }
        const unsigned code = (window >> (24 - k_code_bits - bit % 8)) & 0x3FFu;
        if (code == k_end_code) break;

        // The string for `code`: a defined entry, or (the one undefined code LZW allows) the entry being
        // defined now, which is the previous string plus its own first byte.
        const bool defined = code < next_code;
        if (!defined && !(code == next_code && previous >= 0)) {
            result.outcome = lzw_outcome::undefined_code;
            result.code_index = k;
            result.code = code;
            result.next_code = next_code;
            return result;
        }
        const unsigned base = defined ? code : static_cast<unsigned>(previous);
        const size_t string_length = length[base] + (defined ? 0u : 1u);
        if (out.size() + string_length > max_out_bytes) {
            result.outcome = lzw_outcome::too_long;
            return result;
        }
        const size_t start = out.size();
        out.resize(start + string_length);
        size_t pos = start + length[base];
        for (unsigned c = base;;) {  // walk the prefix chain backwards
            out[--pos] = last_byte[c];
            if (length[c] == 1) break;
            c = prefix[c];
        }
        if (!defined) out.back() = first_byte[base];

        if (previous >= 0 && next_code <= k_last_entry) {
            const unsigned p = static_cast<unsigned>(previous);
            prefix[next_code] = static_cast<uint16_t>(p);
            length[next_code] = static_cast<uint16_t>(length[p] + 1);
            first_byte[next_code] = first_byte[p];
            last_byte[next_code] = out[start];  // the first byte of the current string
            next_code++;
        }
        previous = static_cast<int>(code);
    }
    return result;
}

// 16-bit two's complement wrap of a small int32, without relying on implementation-defined conversions.
int32_t wrap16(int32_t value) { return ((value + 32768) & 0xFFFF) - 32768; }

// Undoes XLI's byte split and second-difference coding: `bytes` holds the n high bytes then the n low bytes.
std::vector<int32_t> xli_samples(const std::vector<uint8_t> &bytes, size_t n, int16_t start) {
    std::vector<int32_t> codes(n), samples(n);
    for (size_t i = 0; i < n; i++) codes[i] = wrap16((static_cast<int32_t>(bytes[i]) << 8) | bytes[n + i]);
    if (n > 0) samples[0] = codes[0];
    if (n > 1) samples[1] = codes[1];
    int32_t residual = start;
    for (size_t i = 2; i < n; i++) {
        samples[i] = wrap16(2 * samples[i - 1] - samples[i - 2] - residual);
        residual = codes[i] - 64;
    }
    return samples;
}

// Decodes `lead_count` XLI chunks. `sample_count` is the expected samples per lead (0: take it from the first
// chunk, within `max_samples`). `labels` name the leads in messages.
status xli_decode(const std::vector<uint8_t> &data, const std::vector<std::string> &labels, size_t max_samples,
                  size_t &sample_count, std::vector<std::vector<int32_t>> &leads) {
    const byte_span span(data.data(), data.size());
    size_t offset = 0;
    std::vector<uint8_t> bytes;
    for (size_t lead = 0; lead < labels.size(); lead++) {
        const std::string at = format("%s: XLI chunk of lead %zu (%s) at byte %zu", k_format, lead + 1, labels[lead].c_str(), offset);
        int32_t size = 0;
        int16_t unknown = 0, start = 0;
        if (!span.le(offset, size) || !span.le(offset + 4, unknown) || !span.le(offset + 6, start))
            return status::error(status_code::bad_format, "%s: the 8-byte chunk header does not fit in the %zu bytes of waveform data",
                                 at.c_str(), data.size());
        if (size < 0 || !span.has(offset + 8, static_cast<size_t>(size)))
            return status::error(status_code::bad_format, "%s: the header claims %d bytes of compressed data but only %zu remain",
                                 at.c_str(), size, data.size() - (offset + 8));
        const byte_span chunk = span.sub(offset + 8, static_cast<size_t>(size));
        const size_t expected_bytes = sample_count ? 2 * sample_count : 2 * max_samples;
        const lzw_result lzw = lzw_decode(chunk, expected_bytes + 1, bytes);
        if (lzw.outcome == lzw_outcome::undefined_code)
            return status::error(status_code::bad_format, "%s: LZW code %zu is %u, which is not defined yet (next free code %u): corrupt data",
                                 at.c_str(), lzw.code_index, lzw.code, lzw.next_code);
        if (lzw.outcome == lzw_outcome::too_long) {
            if (sample_count)
                return status::error(status_code::bad_format, "%s: decompresses to more than the %zu bytes of %zu 16-bit samples",
                                     at.c_str(), expected_bytes, sample_count);
            return status::error(status_code::too_large, "%s: decompresses to more than kalium's limit of %zu samples per lead",
                                 at.c_str(), max_samples);
        }
        if (sample_count == 0) {
            if (bytes.empty() || bytes.size() % 2 != 0)
                return status::error(status_code::bad_format, "%s: decompresses to %zu bytes, not a whole number of 16-bit samples",
                                     at.c_str(), bytes.size());
            sample_count = bytes.size() / 2;
        }
        if (bytes.size() != 2 * sample_count)
            return status::error(status_code::bad_format,
                                 "%s: decompresses to %zu bytes but %zu 16-bit samples need %zu (truncated or corrupt chunk)",
                                 at.c_str(), bytes.size(), sample_count, 2 * sample_count);
        leads.push_back(xli_samples(bytes, sample_count, start));
        offset += 8 + static_cast<size_t>(size);
    }
    return status();
}

// Uncompressed data: the leads one after the other, little-endian int16.
status plain_decode(const std::vector<uint8_t> &data, size_t lead_count, size_t &sample_count, std::vector<std::vector<int32_t>> &leads,
                    std::vector<std::string> &warnings) {
    if (sample_count == 0) {
        if (data.empty() || data.size() % (2 * lead_count) != 0)
            return status::error(status_code::bad_format,
                                 "%s: <parsedwaveforms> decodes to %zu bytes, not %zu leads of whole 16-bit samples", k_format,
                                 data.size(), lead_count);
        sample_count = data.size() / (2 * lead_count);
        if (sample_count > k_max_total_samples / lead_count)
            return status::error(status_code::too_large, "%s: %zu leads x %zu samples exceeds kalium's limit of %zu samples in all",
                                 k_format, lead_count, sample_count, k_max_total_samples);
    }
    const size_t needed = 2 * sample_count * lead_count;
    if (data.size() < needed)
        return status::error(status_code::bad_format,
                             "%s: <parsedwaveforms> decodes to %zu bytes but %zu leads of %zu 16-bit samples need %zu", k_format,
                             data.size(), lead_count, sample_count, needed);
    if (data.size() > needed)
        warnings.push_back(format("<parsedwaveforms> holds %zu bytes more than its %zu leads of %zu samples; they were ignored",
                                  data.size() - needed, lead_count, sample_count));
    const byte_span span(data.data(), data.size());
    for (size_t lead = 0; lead < lead_count; lead++) {
        std::vector<int32_t> samples(sample_count);
        for (size_t i = 0; i < sample_count; i++) {
            int16_t value = 0;
            span.le((lead * sample_count + i) * 2, value);  // in bounds: data.size() >= needed
            samples[i] = value;
        }
        leads.push_back(std::move(samples));
    }
    return status();
}

// ---- residual limb leads and the calibration pulse ----------------------------------------------------------------

bool has_standard_limb_order(const std::vector<std::string> &labels) {
    const lead_id order[] = {lead_id::I, lead_id::II, lead_id::III, lead_id::aVR, lead_id::aVL, lead_id::aVF};
    if (labels.size() < 6) return false;
    for (size_t k = 0; k < 6; k++)
        if (lead_id_from_label(labels[k]) != order[k]) return false;
    return true;
}

// True when stored leads III, aVR, aVL, aVF (indices 2..5) are residuals: at least 90% of each lead's samples
// within 4 ADC units of zero. A real III or Goldberger lead is never that flat while the calibration pulse and
// quantisation leave residuals so.
bool looks_like_residuals(const std::vector<std::vector<int32_t>> &adu) {
    for (size_t k = 2; k < 6; k++) {
        size_t small = 0;
        for (int32_t v : adu[k]) small += (v >= -4 && v <= 4);
        if (small * 10 < adu[k].size() * 9) return false;
    }
    return true;
}

// III, aVR, aVL, aVF from I, II and the stored residuals (halves truncated towards zero, as C's integer division).
void reconstruct_limb_leads(std::vector<std::vector<int32_t>> &adu) {
    const std::vector<int32_t> &i = adu[0], &ii = adu[1];
    std::vector<int32_t> &iii = adu[2], &avr = adu[3], &avl = adu[4], &avf = adu[5];
    for (size_t t = 0; t < i.size(); t++) {
        iii[t] = ii[t] - i[t] - iii[t];
        avr[t] = -avr[t] - (i[t] + ii[t]) / 2;
        avl[t] = (i[t] - iii[t]) / 2 - avl[t];
        avf[t] = (ii[t] + iii[t]) / 2 - avf[t];
    }
}

bool all_leads_equal(const std::vector<std::vector<int32_t>> &adu, size_t t, int32_t value) {
    for (const std::vector<int32_t> &lead : adu)
        if (lead[t] != value) return false;
    return true;
}

// The number of samples that are ECG when the leads end with the carts' calibration pulse: every lead at exactly
// +1 mV for at least 40 ms, followed by nothing but zeros, and preceded by zero padding. Returns n (all samples)
// when there is no such pulse. A real ECG never has all its leads at one value: Goldberger's leads sum to zero.
size_t ecg_samples_before_calibration(const std::vector<std::vector<int32_t>> &adu, double fs_hz, double uv_per_adu,
                                      size_t &pulse_start) {
    const size_t n = adu.empty() ? 0 : adu.front().size();
    const double pulse_adu = 1000.0 / uv_per_adu;
    if (adu.size() < 3 || n == 0 || pulse_adu != std::floor(pulse_adu) || pulse_adu > 32767.0) return n;
    const int32_t one_mv = static_cast<int32_t>(pulse_adu);
    const size_t min_run = std::max<size_t>(2, static_cast<size_t>(std::lround(0.04 * fs_hz)));
    size_t t = 0;
    while (t < n && !all_leads_equal(adu, t, one_mv)) t++;
    if (t == n) return n;
    size_t end = t;
    while (end < n && all_leads_equal(adu, end, one_mv)) end++;
    if (end - t < min_run) return n;
    for (size_t k = end; k < n; k++)
        if (!all_leads_equal(adu, k, 0)) return n;  // not at the end of the record: leave the data alone
    pulse_start = t;
    while (t > 0 && all_leads_equal(adu, t - 1, 0)) t--;
    return t == 0 ? n : t;
}

// ---- waveform layout ------------------------------------------------------------------------------------------------

struct waveform_layout {
    bool xli = false;
    double fs_hz = 0.0;
    double uv_per_adu = 0.0;
    double offset_adu = 0.0;
    std::vector<std::string> labels;
    size_t sample_count = 0;  // per lead, from durationperchannel; 0 when not stated
};

const char *const k_standard_labels[k_standard_lead_count] = {"I", "II", "III", "aVR", "aVL", "aVF",
                                                              "V1", "V2", "V3", "V4", "V5", "V6"};

// The first non-empty value among the parsedwaveforms attribute and the signalcharacteristics elements given.
std::string setting(pugi::xml_node waveforms, const char *attribute, pugi::xml_node characteristics,
                    std::initializer_list<const char *> elements, std::string *source = nullptr) {
    std::string value = attribute_text(waveforms, attribute);
    if (!value.empty()) {
        if (source) *source = format("parsedwaveforms@%s", attribute);
        return value;
    }
    for (const char *element : elements) {
        value = text_of(child(characteristics, element));
        if (!value.empty()) {
            if (source) *source = format("signalcharacteristics/%s", element);
            return value;
        }
    }
    return "";
}

status read_layout(pugi::xml_node root, pugi::xml_node waveforms, waveform_layout &layout) {
    const pugi::xml_node characteristics = descend(root, "dataacquisition/signalcharacteristics");

    const std::string encoding = attribute_text(waveforms, "dataencoding");
    if (!encoding.empty() && !equals_nocase(encoding, "Base64"))
        return status::error(status_code::unsupported, "%s: <parsedwaveforms> dataencoding '%s' (kalium reads Base64)", k_format,
                             encoding.c_str());

    // 1.04: compression="XLI"; 1.03: compressflag="True" compressmethod="XLI".
    const std::string compression = attribute_text(waveforms, "compression");
    const std::string flag = attribute_text(waveforms, "compressflag");
    const std::string method = attribute_text(waveforms, "compressmethod");
    std::string scheme = compression;
    if (scheme.empty() && equals_nocase(flag, "True")) scheme = method.empty() ? "(unnamed)" : method;
    if (equals_nocase(scheme, "XLI")) layout.xli = true;
    else if (!scheme.empty() && !equals_nocase(scheme, "None") && !equals_nocase(scheme, "Uncompressed"))
        return status::error(status_code::unsupported, "%s: <parsedwaveforms> compression '%s' (kalium reads XLI and uncompressed data)",
                             k_format, scheme.c_str());

    std::string source;
    const std::string fs_text = setting(waveforms, "samplespersecond", characteristics, {"samplingrate"}, &source);
    if (fs_text.empty())
        return status::error(status_code::bad_format,
                             "%s: no sampling rate (neither parsedwaveforms@samplespersecond nor signalcharacteristics/samplingrate)",
                             k_format);
    if (!parse_number(fs_text, layout.fs_hz) || !(layout.fs_hz > 0.0) || layout.fs_hz > 100000.0)
        return status::error(status_code::bad_format, "%s: sampling rate %s '%s' is not a rate in Hz (1-100000)", k_format,
                             source.c_str(), fs_text.c_str());

    const std::string resolution_text = setting(waveforms, "resolution", characteristics, {"signalresolution", "resolution"}, &source);
    if (resolution_text.empty())
        return status::error(status_code::bad_format,
                             "%s: no amplitude resolution (neither parsedwaveforms@resolution nor signalcharacteristics/signalresolution)",
                             k_format);
    if (!parse_number(resolution_text, layout.uv_per_adu) || !(layout.uv_per_adu > 0.0) || layout.uv_per_adu > 1e6)
        return status::error(status_code::bad_format, "%s: resolution %s '%s' is not a positive number of uV per unit", k_format,
                             source.c_str(), resolution_text.c_str());

    const std::string bits_text = setting(waveforms, "bitspersample", characteristics, {"bitspersample"}, &source);
    const std::string nbits_text = attribute_text(waveforms, "nbitspersample");
    for (const std::string &bits : {bits_text, nbits_text}) {
        unsigned long long value = 0;
        if (!bits.empty() && (!parse_count(bits, 64, value) || value != 16))
            return status::error(status_code::unsupported, "%s: %s bits per sample (kalium reads 16-bit samples)", k_format, bits.c_str());
    }

    const std::string offset_text = setting(waveforms, "signaloffset", characteristics, {"signaloffset"}, &source);
    if (!offset_text.empty() && (!parse_number(offset_text, layout.offset_adu) || std::fabs(layout.offset_adu) > 65536.0))
        return status::error(status_code::bad_format, "%s: signal offset %s '%s' is not a number of ADC units", k_format,
                             source.c_str(), offset_text.c_str());

    // Leads: 1.04 names them (and numberofleads counts them); 1.03 gives a count and a lead set whose order is
    // the standard one.
    const std::string stated_count = attribute_text(waveforms, "numberofleads");
    const std::string channels_valid = text_of(child(characteristics, "numberchannelsvalid"));
    unsigned long long lead_count = 0;
    for (const auto &[text, where] : {std::make_pair(stated_count, "parsedwaveforms@numberofleads"),
                                      std::make_pair(channels_valid, "signalcharacteristics/numberchannelsvalid")}) {
        unsigned long long value = 0;
        if (!text.empty() && !parse_count(text, ~0ull, value))
            return status::error(status_code::bad_format, "%s: number of leads %s '%s' is not a whole number", k_format, where, text.c_str());
        if (!text.empty() && value == 0) return status::error(status_code::bad_format, "%s: %s declares 0 leads", k_format, where);
        if (value > k_max_leads)
            return status::error(status_code::too_large, "%s: %s declares %llu leads (kalium reads at most %zu)", k_format, where, value,
                                 k_max_leads);
    }
    const std::string labels_text = attribute_text(waveforms, "leadlabels");
    if (!labels_text.empty()) {
        layout.labels = split_words(labels_text);
        if (!stated_count.empty() && parse_count(stated_count, k_max_leads, lead_count) && layout.labels.size() != lead_count)
            return status::error(status_code::bad_format, "%s: parsedwaveforms@numberofleads says %llu leads but leadlabels names %zu ('%s')",
                                 k_format, lead_count, layout.labels.size(), labels_text.c_str());
        lead_count = layout.labels.size();
        if (lead_count > k_max_leads)
            return status::error(status_code::too_large, "%s: leadlabels names %llu leads (kalium reads at most %zu)", k_format, lead_count,
                                 k_max_leads);
    } else {
        const std::string lead_set = text_of(child(characteristics, "leadset"));
        const std::string acquisition = text_of(child(characteristics, "acquisitiontype"));
        const bool standard = starts_with_nocase(lead_set, "STD-12") ||
                              (lead_set.empty() && (equals_nocase(acquisition, "STD-12") || equals_nocase(acquisition, "10-WIRE")));
        if (!standard)
            return status::error(status_code::unsupported,
                                 "%s: no parsedwaveforms@leadlabels and lead set '%s' (acquisition '%s'): the lead order is unknown "
                                 "(kalium knows STD-12)",
                                 k_format, lead_set.c_str(), acquisition.c_str());
        if (!parse_count(stated_count, k_max_leads, lead_count) && !parse_count(channels_valid, k_max_leads, lead_count))
            lead_count = k_standard_lead_count;
        if (lead_count > k_standard_lead_count)
            return status::error(status_code::unsupported, "%s: lead set %s with %llu leads: kalium knows the order of 12", k_format,
                                 lead_set.c_str(), lead_count);
        layout.labels.assign(k_standard_labels, k_standard_labels + lead_count);
    }

    const std::string duration_text = attribute_text(waveforms, "durationperchannel");
    if (!duration_text.empty()) {
        double duration_ms = 0.0;
        if (!parse_number(duration_text, duration_ms) || !(duration_ms > 0.0))
            return status::error(status_code::bad_format, "%s: parsedwaveforms@durationperchannel '%s' is not a positive number of ms",
                                 k_format, duration_text.c_str());
        const double samples = duration_ms * layout.fs_hz / 1000.0;
        if (samples * static_cast<double>(lead_count) > static_cast<double>(k_max_total_samples))
            return status::error(status_code::too_large,
                                 "%s: %llu leads x %.0f samples (durationperchannel %s ms) exceeds kalium's limit of %zu samples", k_format,
                                 lead_count, samples, duration_text.c_str(), k_max_total_samples);
        if (std::fabs(samples - std::round(samples)) > 1e-6 || std::round(samples) < 1.0)
            return status::error(status_code::bad_format, "%s: durationperchannel %s ms at %g Hz is not a whole number of samples (%g)",
                                 k_format, duration_text.c_str(), layout.fs_hz, samples);
        layout.sample_count = static_cast<size_t>(std::round(samples));
    }
    return status();
}

// ---- metadata ----------------------------------------------------------------------------------------------------

bool is_digits(const std::string &s, size_t from, size_t count) {
    if (s.size() < from + count) return false;
    for (size_t k = from; k < from + count; k++)
        if (!std::isdigit(static_cast<unsigned char>(s[k]))) return false;
    return true;
}

// "YYYY-MM-DD" (date) and "HH:MM:SS[.fff]" (time) as the schema's xsd:date and xsd:time write them.
bool is_iso_date(const std::string &d) {
    return d.size() == 10 && is_digits(d, 0, 4) && d[4] == '-' && is_digits(d, 5, 2) && d[7] == '-' && is_digits(d, 8, 2);
}
bool is_iso_time(const std::string &t) {
    return t.size() >= 8 && is_digits(t, 0, 2) && t[2] == ':' && is_digits(t, 3, 2) && t[5] == ':' && is_digits(t, 6, 2);
}

std::string read_start_time(pugi::xml_node root) {
    const pugi::xml_node acquisition = child(root, "dataacquisition");
    const std::string date = attribute_text(acquisition, "date"), time = attribute_text(acquisition, "time");
    if (!is_iso_date(date)) return "";
    return is_iso_time(time) ? date + "T" + time : date;
}

// Whole years between two ISO dates, or a negative number when they are not dates.
int years_between(const std::string &birth, const std::string &on) {
    if (!is_iso_date(birth) || !is_iso_date(on)) return -1;
    auto field = [](const std::string &d, size_t at, size_t len) { return std::atoi(d.substr(at, len).c_str()); };
    int years = field(on, 0, 4) - field(birth, 0, 4);
    const int on_md = field(on, 5, 2) * 100 + field(on, 8, 2), birth_md = field(birth, 5, 2) * 100 + field(birth, 8, 2);
    if (on_md < birth_md) years--;
    return years;
}

void read_patient(pugi::xml_node root, ecg_patient &patient) {
    const pugi::xml_node general = descend(root, "patient/generalpatientdata");
    patient.id = text_of(child(general, "patientid"));
    const std::string sex = text_of(child(general, "sex"));
    if (equals_nocase(sex, "Male")) patient.sex = "male";
    else if (equals_nocase(sex, "Female")) patient.sex = "female";

    const pugi::xml_node age = child(general, "age");
    const struct {
        const char *element;
        double years_per_unit;
    } k_units[] = {{"years", 1.0}, {"months", 1.0 / 12.0}, {"weeks", 7.0 / 365.25}, {"days", 1.0 / 365.25}, {"hours", 1.0 / 8766.0}};
    for (const auto &unit : k_units) {
        double value = 0.0;
        if (parse_number(text_of(child(age, unit.element)), value) && value >= 0.0 && value < 200.0 / unit.years_per_unit) {
            patient.age_years = value * unit.years_per_unit;
            return;
        }
    }
    const int years = years_between(text_of(child(age, "dateofbirth")), attribute_text(child(root, "dataacquisition"), "date"));
    if (years >= 0 && years < 200) patient.age_years = years;
}

std::string read_device(pugi::xml_node root) {
    const pugi::xml_node machine = descend(root, "dataacquisition/machine");
    const std::string name = text_of(machine), detail = attribute_text(machine, "detaildescription");
    if (detail.empty()) return name;
    if (name.empty()) return detail;
    return name + " (" + detail + ")";
}

bool edited(pugi::xml_node node) { return equals_nocase(attribute_text(node, "editedflag"), "True"); }

// The cart's measurements: the machine's own, each missing one from the interpretation's. Returns whether a value
// came from an interpretation flagged as edited.
bool read_cart(pugi::xml_node root, ecg_measurements &cart) {
    pugi::xml_node machine = descend(root, "internalmeasurements/crossleadmeasurements");  // 1.04
    if (!machine) machine = descend(root, "measurements/globalmeasurements");               // 1.03
    pugi::xml_node reported = descend(root, "interpretations/interpretation/globalmeasurements");           // 1.04
    if (!reported) reported = descend(root, "interpretations/interpretation/interpretationmeasurements");  // 1.03
    const struct {
        std::optional<double> ecg_measurements::*member;
        const char *machine_name;
        const char *reported_names[2];
    } k_fields[] = {
        {&ecg_measurements::hr_bpm, "meanventrate", {"heartrate", nullptr}},
        {&ecg_measurements::pr_ms, "meanprint", {"print", "meanprint"}},
        {&ecg_measurements::qrs_ms, "meanqrsdur", {"qrsdur", "meanqrsdur"}},
        {&ecg_measurements::qt_ms, "meanqtint", {"qtint", "meanqtint"}},
        {&ecg_measurements::qtc_ms, "meanqtc", {"qtcb", "meanqtc"}},
        {&ecg_measurements::p_axis_deg, "pfrontaxis", {"pfrontaxis", nullptr}},
        {&ecg_measurements::qrs_axis_deg, "qrsfrontaxis", {"qrsfrontaxis", nullptr}},
        {&ecg_measurements::t_axis_deg, "tfrontaxis", {"tfrontaxis", nullptr}},
    };
    bool used_edited = false;
    for (const auto &field : k_fields) {
        double value = 0.0;
        if (parse_number(text_of(child(machine, field.machine_name)), value)) {
            cart.*field.member = value;
            continue;
        }
        for (const char *name : field.reported_names) {
            if (!name) continue;
            const pugi::xml_node node = child(reported, name);
            if (parse_number(text_of(node), value)) {
                cart.*field.member = value;
                used_edited = used_edited || edited(node) || edited(reported);
                break;
            }
        }
    }
    return used_edited;
}

void read_statements(pugi::xml_node root, std::vector<std::string> &statements) {
    for (pugi::xml_node interpretation : children(child(root, "interpretations"), "interpretation")) {
        const std::string severity = text_of(child(interpretation, "severity"));
        if (!severity.empty()) statements.push_back(severity);
        for (pugi::xml_node statement : children(interpretation, "statement")) {
            const std::string left = text_of(child(statement, "leftstatement"));
            const std::string right = text_of(child(statement, "rightstatement"));
            if (!left.empty() && !right.empty()) statements.push_back(left + ": " + right);
            else if (!left.empty() || !right.empty()) statements.push_back(left + right);
        }
    }
}

// ---- representative beats --------------------------------------------------------------------------------------------

// Reads <repbeats> into `median`; on failure returns the reason (the rhythm strip is what matters: the caller
// keeps the record and warns).
status read_median_beats(pugi::xml_node repbeats, double rhythm_fs_hz, ecg_median_beats &median, std::vector<std::string> &warnings) {
    const std::string encoding = attribute_text(repbeats, "dataencoding");
    if (!encoding.empty() && !equals_nocase(encoding, "Base64"))
        return status::error(status_code::unsupported, "dataencoding '%s' (kalium reads Base64)", encoding.c_str());
    std::string fs_text = attribute_text(repbeats, "samplespersec");
    if (fs_text.empty()) fs_text = attribute_text(repbeats, "samplespersecond");
    const std::string resolution_text = attribute_text(repbeats, "resolution");
    double fs_hz = rhythm_fs_hz, uv_per_unit = 2.5;
    if (!fs_text.empty() && (!parse_number(fs_text, fs_hz) || !(fs_hz > 0.0) || fs_hz > 100000.0))
        return status::error(status_code::bad_format, "samplespersec '%s' is not a rate in Hz", fs_text.c_str());
    if (!resolution_text.empty() && (!parse_number(resolution_text, uv_per_unit) || !(uv_per_unit > 0.0) || uv_per_unit > 1e6))
        return status::error(status_code::bad_format, "resolution '%s' is not a positive number of uV", resolution_text.c_str());
    if (fs_text.empty() || resolution_text.empty())
        warnings.push_back(format("<repbeats> states no %s; assumed %g Hz and %g uV per unit (the rhythm's rate and PageWriter's "
                                  "representative-beat resolution)",
                                  fs_text.empty() && resolution_text.empty() ? "sampling rate or resolution"
                                  : fs_text.empty()                          ? "sampling rate"
                                                                             : "resolution",
                                  fs_hz, uv_per_unit));

    median.fs_hz = fs_hz;
    std::vector<uint8_t> bytes;
    size_t longest_data = 0;  // samples up to the last one that is not a 32767 "no sample" marker, over all leads
    for (pugi::xml_node beat : children(repbeats, "repbeat")) {
        if (median.leads.size() == k_max_leads) return status::error(status_code::too_large, "more than %zu leads", k_max_leads);
        ecg_lead lead;
        lead.name = attribute_text(beat, "leadname");
        if (lead.name.empty()) lead.name = format("repbeat %zu", median.leads.size() + 1);
        const pugi::xml_node waveform = child(beat, "waveform");
        std::string storage;
        if (!base64_decode(raw_text(waveform ? waveform : beat, storage), bytes))
            return status::error(status_code::bad_format, "lead %s is not valid base64", lead.name.c_str());
        if (bytes.empty() || bytes.size() % 2 != 0)
            return status::error(status_code::bad_format, "lead %s decodes to %zu bytes, not whole 16-bit samples", lead.name.c_str(),
                                 bytes.size());
        const byte_span span(bytes.data(), bytes.size());
        lead.samples_uv.resize(bytes.size() / 2);
        for (size_t i = 0; i < lead.samples_uv.size(); i++) {
            int16_t value = 0;
            span.le(i * 2, value);  // in bounds: i * 2 + 2 <= bytes.size()
            if (value == 32767) {
                lead.samples_uv[i] = std::numeric_limits<float>::quiet_NaN();
            } else {
                lead.samples_uv[i] = static_cast<float>(value * uv_per_unit);
                longest_data = std::max(longest_data, i + 1);
            }
        }
        lead.gain_adu_per_mv = 1000.0 / uv_per_unit;
        lead.units = format("%g uV", uv_per_unit);
        if (!median.leads.empty() && lead.samples_uv.size() != median.leads.front().samples_uv.size())
            return status::error(status_code::bad_format, "lead %s has %zu samples but lead %s has %zu", lead.name.c_str(),
                                 lead.samples_uv.size(), median.leads.front().name.c_str(), median.leads.front().samples_uv.size());
        median.leads.push_back(std::move(lead));
    }
    if (median.leads.empty()) return status::error(status_code::bad_format, "no <repbeat> elements");
    if (longest_data == 0) return status::error(status_code::bad_format, "every sample is the 32767 'no sample' marker");
    for (ecg_lead &lead : median.leads) lead.samples_uv.resize(longest_data);  // drop the unused tail all leads share
    return status();
}

}  // namespace

result<ecg_record> read_philips_xml(const named_bytes &file) {
    pugi::xml_document document;
    if (status loaded = xml_load(file, k_format, document); !loaded.ok()) return loaded;
    const pugi::xml_node root = document.document_element();
    if (!root || !equals_nocase(local_name(root.name()), "restingecgdata"))
        return status::error(status_code::bad_format, "%s: the root element is <%s>, not Philips' <restingecgdata>", k_format,
                             root ? root.name() : "");

    ecg_record record;
    const std::string doc_type = text_at(root, "documentinfo/documenttype");
    const std::string version = text_at(root, "documentinfo/documentversion");
    if (version != "1.03" && version != "1.04" && !starts_with_nocase(version, "1.04."))
        record.warnings.push_back(format("documentversion '%s' is not one kalium knows (1.03, 1.04, 1.04.x); read as those are",
                                         version.c_str()));

    const pugi::xml_node waveforms = descend(root, "waveforms/parsedwaveforms");
    if (!waveforms) return status::error(status_code::bad_format, "%s: no <waveforms>/<parsedwaveforms> element: the file holds no ECG", k_format);
    waveform_layout layout;
    status st = read_layout(root, waveforms, layout);
    if (!st.ok()) return st;

    std::vector<uint8_t> data;
    std::string storage;
    if (!base64_decode(raw_text(waveforms, storage), data))
        return status::error(status_code::bad_format, "%s: <parsedwaveforms> is not valid base64", k_format);
    if (data.empty()) return status::error(status_code::bad_format, "%s: <parsedwaveforms> is empty: the file holds no samples", k_format);
    std::vector<std::vector<int32_t>> adu;
    size_t n = layout.sample_count;
    st = layout.xli ? xli_decode(data, layout.labels, k_max_total_samples / layout.labels.size(), n, adu)
                    : plain_decode(data, layout.labels.size(), n, adu, record.warnings);
    if (!st.ok()) return st;

    if (has_standard_limb_order(layout.labels)) {
        if (looks_like_residuals(adu)) reconstruct_limb_leads(adu);
        else if (layout.xli)
            record.warnings.push_back("leads III, aVR, aVL, aVF do not look like Philips' residual coding; they are read as stored");
    }
    size_t pulse_start = n;
    const size_t ecg_samples = ecg_samples_before_calibration(adu, layout.fs_hz, layout.uv_per_adu, pulse_start);
    if (ecg_samples < n)
        record.warnings.push_back(format("samples %zu-%zu (%.2f s from %.2f s: zero padding and the cart's 1 mV calibration pulse at "
                                         "%.2f s) are not ECG and were left out",
                                         ecg_samples, n - 1, (n - ecg_samples) / layout.fs_hz, ecg_samples / layout.fs_hz,
                                         pulse_start / layout.fs_hz));

    record.fs_hz = layout.fs_hz;
    for (size_t k = 0; k < adu.size(); k++) {
        ecg_lead lead;
        lead.name = layout.labels[k];
        lead.gain_adu_per_mv = 1000.0 / layout.uv_per_adu;
        lead.baseline_adu = layout.offset_adu;
        lead.units = format("%g uV", layout.uv_per_adu);
        lead.samples_uv.resize(ecg_samples);
        for (size_t t = 0; t < ecg_samples; t++)
            lead.samples_uv[t] = static_cast<float>((adu[k][t] - layout.offset_adu) * layout.uv_per_adu);
        record.leads.push_back(std::move(lead));
    }
    record.format_detail = trimmed((doc_type + " " + version).c_str()) + (layout.xli ? ", XLI" : ", uncompressed");
    record.start_time = read_start_time(root);
    read_patient(root, record.patient);
    record.device = read_device(root);
    if (read_cart(root, record.cart))
        record.warnings.push_back("some cart measurements come from the interpretation, which is flagged as edited");
    read_statements(root, record.statements);

    if (const pugi::xml_node repbeats = descend(root, "waveforms/repbeats")) {
        ecg_median_beats median;
        st = read_median_beats(repbeats, layout.fs_hz, median, record.warnings);
        if (st.ok()) record.median = std::move(median);
        else record.warnings.push_back("representative beats (<repbeats>) not read: " + st.message());
    }
    return record;
}

}  // namespace kalium::ecg
