"""Batch sampler over a packed store, with its own distributed sharding.

The trainer runs with ``use_distributed_sampler=False``; this sampler shards by
itself, as ``torch.utils.data.DistributedSampler`` does: every epoch a
permutation seeded by ``seed + epoch`` (the same on every rank), then rank
``r`` takes positions ``r, r + R, r + 2R, …``. With ``drop_last`` the tail that
does not divide evenly is dropped and the shards are disjoint; without it the
permutation is padded by wrapping around (at most ``R - 1`` repeated graphs) so
that every rank runs the same number of steps, which DDP needs.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sized

import torch
from torch.utils.data import Sampler


def _distributed_defaults(num_replicas: int | None, rank: int | None) -> tuple[int, int]:
    if num_replicas is None or rank is None:
        dist = torch.distributed
        initialised = dist.is_available() and dist.is_initialized()
        if num_replicas is None:
            num_replicas = dist.get_world_size() if initialised else 1
        if rank is None:
            rank = dist.get_rank() if initialised else 0
    if num_replicas < 1 or not 0 <= rank < num_replicas:
        raise ValueError(f"GraphBatchSampler: rank {rank} is not in [0, num_replicas={num_replicas})")
    return num_replicas, rank


class GraphBatchSampler(Sampler[list[int]]):
    """Yields lists of store indices; one list is one batch.

    Example::

        sampler = GraphBatchSampler(len(store), batch_size=32, shuffle=True, seed=222)
        loader = DataLoader(BatchView(store), sampler=sampler, batch_size=None)
    """

    def __init__(
        self,
        data_source: int | Sized,
        batch_size: int,
        *,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int = 0,
        num_replicas: int | None = None,
        rank: int | None = None,
    ) -> None:
        self.num_graphs = data_source if isinstance(data_source, int) else len(data_source)
        if batch_size < 1:
            raise ValueError(f"GraphBatchSampler: batch_size {batch_size}; expected >= 1")
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.seed = seed
        self.epoch = 0
        self.num_replicas, self.rank = _distributed_defaults(num_replicas, rank)

    def set_epoch(self, epoch: int) -> None:
        """Reseed the shuffle for ``epoch`` (Lightning calls this every epoch)."""
        self.epoch = epoch

    @property
    def shard_size(self) -> int:
        """Graphs this rank sees per epoch."""
        if self.drop_last:
            return self.num_graphs // self.num_replicas
        return math.ceil(self.num_graphs / self.num_replicas)

    def shard(self) -> list[int]:
        """This rank's store indices for the current epoch, in order."""
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed + self.epoch)
            order = torch.randperm(self.num_graphs, generator=generator).tolist()
        else:
            order = list(range(self.num_graphs))
        total = self.shard_size * self.num_replicas
        if total > len(order) and order:
            order += (order * math.ceil(total / len(order)))[: total - len(order)]
        return order[:total][self.rank :: self.num_replicas]

    def __iter__(self) -> Iterator[list[int]]:
        shard = self.shard()
        stop = len(shard) - len(shard) % self.batch_size if self.drop_last else len(shard)
        for start in range(0, stop, self.batch_size):
            yield shard[start : start + self.batch_size]

    def __len__(self) -> int:
        if self.drop_last:
            return self.shard_size // self.batch_size
        return math.ceil(self.shard_size / self.batch_size)
