# Create-on-push (issue 10): the CloudTrail event mode and the `repo` verb attach to ecrs_handler from here.
if(TARGET ecrs_handler)
  target_sources(ecrs_handler PRIVATE ${CMAKE_SOURCE_DIR}/handler/provision/provision_settings.cpp
                                      ${CMAKE_SOURCE_DIR}/handler/provision/provision_mode.cpp)
  target_include_directories(ecrs_handler PUBLIC ${CMAKE_SOURCE_DIR}/handler/provision/include)
  target_link_libraries(ecrs_handler PUBLIC ecrs::lifecycle)
endif()
