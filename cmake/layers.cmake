# Layers: each library sees only its own folder and those of the libraries it links, so an include that points
# upwards (core including dns, cache including upstream, resolve including ops) fails to build.
#
# A layer's include root is a directory in the build tree holding one symbolic link, named as the layer's folder is
# in includes ("core", "daemon/resolve"), to that folder in the source tree. The project's root is on no library's
# include path; tests, which may reach every layer, add it themselves.

# greenfinch_layer(TARGET FOLDER): FOLDER (relative to the source root) becomes TARGET's public include root.
function(greenfinch_layer target folder)
  set(root "${PROJECT_BINARY_DIR}/include/${target}")
  get_filename_component(parent "${root}/${folder}" DIRECTORY)
  file(MAKE_DIRECTORY "${parent}")
  file(CREATE_LINK "${PROJECT_SOURCE_DIR}/${folder}" "${root}/${folder}" SYMBOLIC)
  target_include_directories(${target} PUBLIC "${root}")
endfunction()
