# The ECR lifecycle-policy client (issue 9), attached to ecrs_ecr once aws/ provides its client.
if(TARGET ecrs_ecr AND TARGET ecrs::aws)
  target_sources(ecrs_ecr PRIVATE ${CMAKE_SOURCE_DIR}/ecr/lifecycle_client.cpp)
endif()
