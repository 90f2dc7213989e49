# Unity ("jumbo") builds for the presets: CI builds the whole tree twice from cold (release and ASan+UBSan) on
# two cores, and most of a test file's compile time is code generation for the same inline functions (GoogleTest,
# jsoncpp, our headers) that every file in the target instantiates again. Compiling up to
# CMAKE_UNITY_BUILD_BATCH_SIZE files as one cut clean_test's ASan compile from 68 to 23 CPU-seconds.
# A user's plain `cmake` build stays file by file (CMAKE_UNITY_BUILD defaults to OFF), and the arm64 preset
# builds the bootstrap file by file, so a missing #include that a batch would hide still fails somewhere.
#
# Files that define a file-local name another file of the same target also defines (each file's anonymous
# namespace has its own `invalid()`, `kContext`, `Clock`, ...) are compiled on their own. When a new file clashes,
# add it here or rename the helper.
if(NOT CMAKE_UNITY_BUILD)
  return()
endif()
function(ecrs_compile_alone target)
  if(TARGET ${target})
    set_source_files_properties(${ARGN} TARGET_DIRECTORY ${target} PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
  endif()
endfunction()
ecrs_compile_alone(ecrs_cfn ${CMAKE_SOURCE_DIR}/cfn/hook.cpp ${CMAKE_SOURCE_DIR}/cfn/properties.cpp
                   ${CMAKE_SOURCE_DIR}/cfn/continuation.cpp)
ecrs_compile_alone(ecrs_ecr ${CMAKE_SOURCE_DIR}/ecr/admin_client.cpp ${CMAKE_SOURCE_DIR}/ecr/lifecycle_client.cpp)
ecrs_compile_alone(ecrs_localaws ${CMAKE_SOURCE_DIR}/localaws/service.cpp ${CMAKE_SOURCE_DIR}/localaws/ecs_service.cpp
                   ${CMAKE_SOURCE_DIR}/localaws/lambda_service.cpp ${CMAKE_SOURCE_DIR}/localaws/sts_service.cpp
                   ${CMAKE_SOURCE_DIR}/localaws/runtime_api.cpp ${CMAKE_SOURCE_DIR}/localaws/apprunner_service.cpp)
ecrs_compile_alone(ecrs_handler ${CMAKE_SOURCE_DIR}/handler/runtime_http_transport.cpp
                   ${CMAKE_SOURCE_DIR}/handler/lifecycle/lifecycle_verb.cpp)
ecrs_compile_alone(aws_test ${CMAKE_SOURCE_DIR}/tests/aws/client_test.cpp)
ecrs_compile_alone(sigv4_test ${CMAKE_SOURCE_DIR}/tests/sigv4/verification_test.cpp)
ecrs_compile_alone(lifecycle_test ${CMAKE_SOURCE_DIR}/tests/lifecycle/preview_json_test.cpp)
ecrs_compile_alone(localaws_lambda_test ${CMAKE_SOURCE_DIR}/tests/localaws_lambda/lambda_s3_http_test.cpp)
ecrs_compile_alone(lifecycle_cli_test ${CMAKE_SOURCE_DIR}/tests/lifecycle_cli/binary_test.cpp)
ecrs_compile_alone(provision_test ${CMAKE_SOURCE_DIR}/tests/provision/provision_binary_test.cpp)
