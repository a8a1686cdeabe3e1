"""The collection's plugins import as Ansible loads them, by one identity:
``ansible_collections.image_delivery.stack.plugins.<kind>.<name>`` (pytest's ``pythonpath``
holds collections/, which links the collection in place)."""
