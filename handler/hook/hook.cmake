# The stack-deletion hook mode (issue 11), attached to ecrs_handler from its own folder.
if(TARGET ecrs_handler)
  target_sources(ecrs_handler PRIVATE
    ${CMAKE_SOURCE_DIR}/handler/hook/hook_flow.cpp
    ${CMAKE_SOURCE_DIR}/handler/hook/hook_mode.cpp)
  target_include_directories(ecrs_handler PUBLIC ${CMAKE_SOURCE_DIR}/handler/hook/include)
endif()
