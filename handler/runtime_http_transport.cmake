# The Runtime API's plain-HTTP transport (runtime_http_transport.cpp) joins the handler library; run_lambda uses
# it instead of libcurl for /next, /response and /error.
if(TARGET ecrs_handler)
  target_sources(ecrs_handler PRIVATE ${CMAKE_CURRENT_LIST_DIR}/runtime_http_transport.cpp)
endif()
