# function.zip for Lambda provided.al2023: `cmake --build --preset default --target function_zip`.
# scripts/package explains the bundle (why not static, why glibc travels with it).
if(TARGET ecr-sweeper AND NOT ECRS_SANITIZE)
  add_custom_command(
    OUTPUT ${CMAKE_BINARY_DIR}/function.zip
    COMMAND ${CMAKE_SOURCE_DIR}/scripts/package $<TARGET_FILE:ecr-sweeper> ${CMAKE_BINARY_DIR}/function.zip
    DEPENDS ecr-sweeper ${CMAKE_SOURCE_DIR}/scripts/package
    COMMENT "Packaging function.zip for provided.al2023"
    VERBATIM)
  add_custom_target(function_zip ALL DEPENDS ${CMAKE_BINARY_DIR}/function.zip)
endif()
