# Issue 9: `ecr-sweeper lifecycle validate|preview|apply` and Custom::EcrLifecyclePolicy, attached to ecrs_handler.
# Without cleanup/ (the preview's in-use scan) the include dir stays off, so the registry leaves the mode out.
if(TARGET ecrs_handler AND TARGET ecrs_cleanup)
  target_sources(ecrs_handler PRIVATE
    ${CMAKE_SOURCE_DIR}/handler/lifecycle/lifecycle_in_use.cpp
    ${CMAKE_SOURCE_DIR}/handler/lifecycle/lifecycle_ops.cpp
    ${CMAKE_SOURCE_DIR}/handler/lifecycle/lifecycle_resource.cpp
    ${CMAKE_SOURCE_DIR}/handler/lifecycle/lifecycle_verb.cpp
  )
  target_include_directories(ecrs_handler PUBLIC ${CMAKE_SOURCE_DIR}/handler/lifecycle/include)
  # The preview's in-use scan is cleanup/'s scanner, reached through handler/clean's session factory.
  target_link_libraries(ecrs_handler PUBLIC ecrs::lifecycle ecrs::cleanup)
endif()
