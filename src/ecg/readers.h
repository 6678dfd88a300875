// ecg/readers.h: the per-format readers behind kalium::ecg_read (internal to the core).
//
// Contract for every reader:
//   - input is bytes (named_bytes); it never opens files and never reads outside the buffer
//     (use byte_span from core/bytes.h for binary formats, pugixml for XML);
//   - it fills an ecg_record: fs_hz, leads (name, samples_uv in microvolts, gain_adu_per_mv, baseline_adu,
//     units; id may be left as lead_id::other: ecg_read maps names to ids), format_detail, and whatever
//     metadata the file has (start_time, patient, device, cart measurements, statements, median beats);
//   - it does not set `format` or `source_name`, and does not derive or sort leads: ecg_read does that;
//   - on bad input it returns status_code::bad_format (or unsupported / too_large) with a message that
//     names the format, the field and where: "scp-ecg: section 6: lead 3 length 9000 exceeds section end
//     (offset 1234)". It never asserts, throws out of the function, or crashes.
#pragma once

#include "kalium.h"

#include <string_view>

namespace kalium::ecg {

result<ecg_record> read_wfdb(const named_bytes &header, const std::vector<named_bytes> &companions);
result<ecg_record> read_philips_xml(const named_bytes &file);
result<ecg_record> read_ge_muse_xml(const named_bytes &file);
result<ecg_record> read_hl7_aecg(const named_bytes &file);
result<ecg_record> read_scp_ecg(const named_bytes &file);
result<ecg_record> read_dicom(const named_bytes &file);
result<ecg_record> read_edf(const named_bytes &file);
result<ecg_record> read_csv(const named_bytes &file, const read_options &options);

// Content sniffers for the formats that are not XML (XML formats are told apart by their root element).
bool sniff_wfdb_header(const uint8_t *data, size_t size);
bool sniff_scp_ecg(const uint8_t *data, size_t size);
bool sniff_dicom(const uint8_t *data, size_t size);
bool sniff_edf(const uint8_t *data, size_t size);
bool sniff_csv(const uint8_t *data, size_t size);

// The lower-case extension of a file name without the dot ("hea" for "100.hea"), "" when none.
std::string file_extension(std::string_view name);

}  // namespace kalium::ecg
