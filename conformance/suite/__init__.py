"""The case files and the case model: loading, request templates, the $media directive and samples."""
