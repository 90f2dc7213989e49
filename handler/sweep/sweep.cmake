# Organisation sweep task (issue 12): one Distributed Map item per account and region, over the cleanup/ layer.
if(TARGET ecrs_handler AND TARGET ecrs_cleanup)
  target_sources(ecrs_handler PRIVATE ${CMAKE_SOURCE_DIR}/handler/sweep/sweep_mode.cpp)
  target_include_directories(ecrs_handler PUBLIC ${CMAKE_SOURCE_DIR}/handler/sweep/include)
  target_link_libraries(ecrs_handler PUBLIC ecrs::cleanup)
endif()
