// ecg/files.h: ECG files from disk, for the native clients (the `kalium` command line and the Python module
// kalium_core), so that both load a file, and a WFDB header's companions, the same way. The readers themselves
// take bytes (kalium.h); this is the one place that turns a path into those bytes.
#pragma once

#include "kalium.h"

#include <string>
#include <vector>

namespace kalium {

// One file as given (a path), its bytes, and for a WFDB header the companion files found beside it.
struct ecg_file {
    std::string path;                  // as given
    std::vector<uint8_t> bytes;
    std::vector<ecg_file> companions;  // for a WFDB header: the files it names that exist in its folder
    std::string error;                 // why the file could not be loaded ("" when loaded)
};

// The whole regular file at `path` (at most k_max_file_bytes); on failure `error` says why, naming the path.
bool read_file_bytes(const std::string &path, std::vector<uint8_t> &bytes, std::string &error);

// The file names a WFDB header's text may refer to: every whitespace-separated token with a '.' and no '/'
// other than the header's own name (`header_name`, a base name), each once, in header order. These are the
// signal files (.dat, .mat, .xyz, ...) a reader needs beside the header; a token that names no file is
// harmless (it is simply not found).
std::vector<std::string> wfdb_named_files(const uint8_t *header, size_t size, const std::string &header_name);

// Loads `path`; when it is a WFDB header (by content), also every file it names that is a regular file in the
// header's folder. A file that cannot be loaded is returned with `error` set (nothing is thrown).
ecg_file load_ecg_file(const std::string &path);

// Reads the record of a loaded file (its error, if it could not be loaded, as status_code::io_error).
result<ecg_record> read_ecg_file(const ecg_file &file, const read_options &options = {});

}  // namespace kalium
