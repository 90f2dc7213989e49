# Scheduled cleanup (issue 8): the `clean` verb and the EventBridge scheduled-event mode attach to ecrs_handler
# from here, over the cleanup/ layer.
if(TARGET ecrs_handler AND TARGET ecrs_cleanup)
  target_sources(ecrs_handler PRIVATE ${CMAKE_SOURCE_DIR}/handler/clean/clean_settings.cpp
                                      ${CMAKE_SOURCE_DIR}/handler/clean/clean_mode.cpp)
  target_include_directories(ecrs_handler PUBLIC ${CMAKE_SOURCE_DIR}/handler/clean/include)
  target_link_libraries(ecrs_handler PUBLIC ecrs::cleanup)
endif()
