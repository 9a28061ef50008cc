"""Hostile graph files: a few KB on disk, gigabytes once materialised (for the memory-capped tests)."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import torch

BOMB_ROWS, BOMB_COLS = 3 * 2**20, 172  # 2.16 GB of float32: the red team's "one graph of 3M nodes"
_CHUNK = 16 << 20


def _small_parts() -> dict[str, torch.Tensor]:
    return {"edge_index": torch.tensor([[0, 1], [1, 0]]), "edge_attr": torch.rand(2, 11)}


def write_expanded_graph(path: Path) -> Path:
    """``x`` is one float expanded (stride 0) to [3M, 172]: ~2 KB on disk, 2 GB if copied."""
    torch.save({"x": torch.zeros(1).expand(BOMB_ROWS, BOMB_COLS), **_small_parts()}, path)
    return path


def write_sparse_graph(path: Path) -> Path:
    """``x`` is a sparse COO tensor of shape [3M, 172] with one value: 2 GB once densified."""
    x = torch.sparse_coo_tensor(torch.tensor([[0], [0]]), torch.tensor([1.0]), (BOMB_ROWS, BOMB_COLS),
                                check_invariants=True)
    torch.save({"x": x, **_small_parts()}, path)
    return path


class _RepeatingDeflate:
    """Deflate for a stream of identical zero chunks: each chunk, full-flushed, compresses to the same bytes."""

    def __init__(self) -> None:
        first = zlib.compressobj(9, zlib.DEFLATED, -15)
        self._block = first.compress(bytes(_CHUNK)) + first.flush(zlib.Z_FULL_FLUSH)
        self._tail = zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)

    def compress(self, data: bytes) -> bytes:
        assert len(data) == _CHUNK and not any(data[:64])
        return self._block

    def flush(self) -> bytes:
        return self._tail


def write_zip_bomb(path: Path, scratch: Path) -> Path:
    """A real ``torch.save`` graph whose ``x`` storage (2 GB of zeros) is deflated to ~2 MB.

    torch's loader inflates deflated members, so loading it allocates the full 2 GB. The storage is
    written through ``torch.serialization.skip_data`` from a sparse file, so making it needs no memory.
    """
    nbytes = BOMB_ROWS * BOMB_COLS * 4
    backing = scratch / "zeros.bin"
    with backing.open("wb") as handle:
        handle.truncate(nbytes)  # a sparse file: no disk blocks
    x = torch.from_file(str(backing), shared=True, size=BOMB_ROWS * BOMB_COLS, dtype=torch.float32)
    layout = scratch / "layout.pt"
    with torch.serialization.skip_data():
        torch.save({"x": x.view(BOMB_ROWS, BOMB_COLS), **_small_parts()}, layout)
    backing.unlink()
    assert nbytes % _CHUNK == 0
    zeros = bytes(_CHUNK)
    with zipfile.ZipFile(layout) as source, zipfile.ZipFile(path, "w") as bomb:
        for info in source.infolist():
            if info.file_size != nbytes:
                with source.open(info) as member:
                    member._expected_crc = None  # noqa: SLF001 - skip_data left the storages' bytes unwritten (zeros)
                    bomb.writestr(info.filename, member.read())
                continue
            entry = zipfile.ZipInfo(info.filename)
            entry.compress_type = zipfile.ZIP_DEFLATED
            with bomb.open(entry, "w", force_zip64=True) as member:
                member._compressor = _RepeatingDeflate()  # noqa: SLF001 - the entry's deflate stream, precomputed
                for _ in range(nbytes // _CHUNK):
                    member.write(zeros)
    layout.unlink()
    return path


MEMORY_CAP = 1 << 30  # 1 GiB of address space: enough for graphqa on a small dataset, half what one bomb needs

