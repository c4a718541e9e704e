# Compiler flags for every Footfall target (style.md section 13).
option(FF_WERROR "Treat warnings as errors" ON)
set(FF_WARN_FLAGS -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wformat=2 -Wvla -Wimplicit-fallthrough)
if(FF_WERROR)
  list(APPEND FF_WARN_FLAGS -Werror)
endif()
add_compile_options(${FF_WARN_FLAGS})
add_compile_definitions(_GNU_SOURCE)

option(FF_SANITIZE "Build with AddressSanitizer + UndefinedBehaviorSanitizer" OFF)
if(FF_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

# libFuzzer builds: instrument every library for coverage (the fuzz targets
# themselves add -fsanitize=fuzzer to get libFuzzer's main).
option(FF_FUZZ "Build libFuzzer targets (needs clang)" OFF)
if(FF_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
