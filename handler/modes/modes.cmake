# Plug-in points (modes.hpp), the AWS session modes share, and the registry listing every mode.
if(TARGET ecrs_handler)
  target_sources(ecrs_handler PRIVATE ${CMAKE_SOURCE_DIR}/handler/modes/aws_session.cpp
                                      ${CMAKE_SOURCE_DIR}/handler/modes/registry.cpp)
  target_include_directories(ecrs_handler PUBLIC ${CMAKE_SOURCE_DIR}/handler/modes/include)
endif()
