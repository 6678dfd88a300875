# cmake/embed.cmake: embed files (shaders, fonts) into a target at build time.
#
#   kalium_embed(<target> <name> <symbol>=<file> ...)
# writes <name>.h / <name>.cpp into the build tree and adds them to <target>. Each file becomes
#   extern const unsigned char <symbol>[];   // the bytes, followed by a NUL so text can be used as a C string
#   extern const size_t <symbol>_size;       // the byte count, without that NUL
# The generated header is included as "<name>.h".
function(kalium_embed target name)
  set(out_dir "${CMAKE_CURRENT_BINARY_DIR}/embedded")
  set(args "")
  set(deps "")
  foreach(pair ${ARGN})
    string(REPLACE "=" ";" parts "${pair}")
    list(GET parts 0 symbol)
    list(GET parts 1 file)
    if(NOT IS_ABSOLUTE "${file}")
      set(file "${CMAKE_SOURCE_DIR}/${file}")
    endif()
    if(NOT EXISTS "${file}")
      message(FATAL_ERROR "kalium_embed: ${file} does not exist (run ./scripts/setup for fonts)")
    endif()
    list(APPEND args "${symbol}=${file}")
    list(APPEND deps "${file}")
  endforeach()
  add_custom_command(
    OUTPUT "${out_dir}/${name}.h" "${out_dir}/${name}.cpp"
    COMMAND /usr/bin/python3 "${CMAKE_SOURCE_DIR}/cmake/embed-files.py" "${out_dir}" "${name}" ${args}
    DEPENDS ${deps} "${CMAKE_SOURCE_DIR}/cmake/embed-files.py"
    COMMENT "Embedding ${name}")
  target_sources(${target} PRIVATE "${out_dir}/${name}.cpp" "${out_dir}/${name}.h")
  target_include_directories(${target} PRIVATE "${out_dir}")
endfunction()
