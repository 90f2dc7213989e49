# The I/O half of ecr/ (typed ECR client and deletion executor), owned apart from the planner's CMakeLists.txt.
# The top-level CMakeLists includes this right after add_subdirectory(ecr). It attaches only once the aws/
# layer provides its client, so the tree stays configurable and buildable while aws/ is being written.
if(TARGET ecrs_ecr AND TARGET ecrs::aws AND EXISTS ${CMAKE_SOURCE_DIR}/aws/include/ecrs/aws/client.hpp)
  target_sources(ecrs_ecr PRIVATE
    ${CMAKE_SOURCE_DIR}/ecr/ecr_client.cpp
    ${CMAKE_SOURCE_DIR}/ecr/executor.cpp
    ${CMAKE_SOURCE_DIR}/ecr/rate_controller.cpp
  )
  target_link_libraries(ecrs_ecr PUBLIC ecrs::aws Threads::Threads)
  set(ECRS_ECR_ENGINE ON)
else()
  set(ECRS_ECR_ENGINE OFF)
endif()
