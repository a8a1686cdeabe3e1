"""The image API that runs on every instance (search, image serving, resizing).

``catalog_schema`` is the project's single catalog definition: in the source tree it is a link to
``plugins/module_utils/catalog_schema.py``; a built package carries a copy of that file.
"""
