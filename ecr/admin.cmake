# Repository administration (CreateRepository with settings, tags, policies, repository creation templates):
# attaches to ecrs_ecr once the aws/ layer exists, like engine.cmake.
if(TARGET ecrs_ecr AND TARGET ecrs::aws)
  target_sources(ecrs_ecr PRIVATE ${CMAKE_SOURCE_DIR}/ecr/admin_client.cpp)
endif()
