"""The pytest plugin: case files become items judged by the engine."""
