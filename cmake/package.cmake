# The Lambda package for provided.al2023: `cmake --build --preset default --target function_zip` (x86_64) or
# `--preset arm64` (aarch64). It is named after Lambda's architecture, function-x86_64.zip or function-arm64.zip,
# with SHA256SUMS beside it; the x86_64 build also writes function.zip, the name earlier releases used.
# scripts/package explains the bundle (why not static, why glibc travels with it, what is left out).
if(TARGET ecr-sweeper AND NOT ECRS_SANITIZE)
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
    set(ECRS_LAMBDA_ARCH arm64)
  else()
    set(ECRS_LAMBDA_ARCH x86_64)
  endif()
  set(_ecrs_zip ${CMAKE_BINARY_DIR}/function-${ECRS_LAMBDA_ARCH}.zip)
  set(_ecrs_outputs ${_ecrs_zip} ${CMAKE_BINARY_DIR}/SHA256SUMS)
  set(_ecrs_copy "")
  if(ECRS_LAMBDA_ARCH STREQUAL "x86_64")
    set(_ecrs_copy ${CMAKE_BINARY_DIR}/function.zip)
    list(APPEND _ecrs_outputs ${_ecrs_copy})
  endif()
  add_custom_command(
    OUTPUT ${_ecrs_outputs}
    COMMAND ${CMAKE_COMMAND} -E env SOURCE_DATE_EPOCH=${ECRS_SOURCE_DATE_EPOCH}
            ${CMAKE_SOURCE_DIR}/scripts/package $<TARGET_FILE:ecr-sweeper> ${_ecrs_zip} ${_ecrs_copy}
    DEPENDS ecr-sweeper ${CMAKE_SOURCE_DIR}/scripts/package ${CMAKE_SOURCE_DIR}/scripts/package-stubs.py
            ${CMAKE_SOURCE_DIR}/scripts/package-launcher.c
    COMMENT "Packaging function-${ECRS_LAMBDA_ARCH}.zip for provided.al2023"
    VERBATIM)
  add_custom_target(function_zip ALL DEPENDS ${_ecrs_outputs})
endif()
