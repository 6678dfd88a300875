# cmake/kalium-target.cmake: flags every kalium-owned target shares (never third-party code).
#   kalium_target_defaults(<target>): warnings, wasm SIMD, and the sanitizers when KALIUM_SANITIZE is on.
function(kalium_target_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter)
  if(EMSCRIPTEN)
    target_compile_options(${target} PRIVATE -msimd128)
  endif()
  if(KALIUM_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()
