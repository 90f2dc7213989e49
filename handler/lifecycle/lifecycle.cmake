# Issue 9: `ecr-sweeper lifecycle validate|preview|apply` and Custom::EcrLifecyclePolicy, attached to ecrs_handler.
if(TARGET ecrs_handler)
  target_sources(ecrs_handler PRIVATE
    ${CMAKE_SOURCE_DIR}/handler/lifecycle/lifecycle_ops.cpp
    ${CMAKE_SOURCE_DIR}/handler/lifecycle/lifecycle_resource.cpp
    ${CMAKE_SOURCE_DIR}/handler/lifecycle/lifecycle_verb.cpp
  )
  target_include_directories(ecrs_handler PUBLIC ${CMAKE_SOURCE_DIR}/handler/lifecycle/include)
  target_link_libraries(ecrs_handler PUBLIC ecrs::lifecycle)
endif()
