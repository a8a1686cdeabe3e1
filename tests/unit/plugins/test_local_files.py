from __future__ import annotations

import os
import stat

from ansible_collections.image_delivery.stack.plugins.module_utils.local_files import read_bytes, write_atomically


def test_a_file_is_written_whole_in_a_new_folder_with_its_mode_and_read_back(tmp_path):
    path = str(tmp_path / "new" / "file.bin")
    assert read_bytes(path) is None and read_bytes(None) is None
    write_atomically(path, b"first")
    write_atomically(path, b"second", mode=0o640)
    assert read_bytes(path) == b"second"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert os.listdir(tmp_path / "new") == ["file.bin"]  # no partial file left beside it
