# web/make-sw.cmake: writes the site's sw.js from web/sw.js (cmake -P, run by web/CMakeLists.txt after every
# other file of the site is in place): the precache list is every file under SITE_DIR but sw.js itself, and
# the cache version is the first 16 hex digits of a sha256 over their names and contents.
#   cmake -DSITE_DIR=... -DTEMPLATE=web/sw.js -DOUTPUT=.../sw.js -P web/make-sw.cmake
file(GLOB_RECURSE site_files RELATIVE "${SITE_DIR}" "${SITE_DIR}/*")
list(REMOVE_ITEM site_files sw.js)
list(SORT site_files)
set(digest_input "")
set(precache "'./'")
foreach(f ${site_files})
  file(SHA256 "${SITE_DIR}/${f}" h)
  string(APPEND digest_input "${f} ${h}\n")
  string(APPEND precache ", '${f}'")
endforeach()
string(SHA256 version "${digest_input}")
string(SUBSTRING "${version}" 0 16 KALIUM_SITE_VERSION)
set(KALIUM_PRECACHE "${precache}")
configure_file("${TEMPLATE}" "${OUTPUT}" @ONLY)
