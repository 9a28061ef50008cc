"""GraphBatchSampler: batching, seeded shuffling per epoch, DDP sharding."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from graphqa.data import GraphBatchSampler


def test_sequential_batches() -> None:
    sampler = GraphBatchSampler(10, 4)
    assert list(sampler) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]] and len(sampler) == 3
    dropping = GraphBatchSampler(10, 4, drop_last=True)
    assert list(dropping) == [[0, 1, 2, 3], [4, 5, 6, 7]] and len(dropping) == 2
    assert list(GraphBatchSampler([None] * 3, 5)) == [[0, 1, 2]]  # a Sized works too


def test_shuffle_is_seeded_and_changes_with_epoch() -> None:
    a, b = GraphBatchSampler(50, 8, shuffle=True, seed=3), GraphBatchSampler(50, 8, shuffle=True, seed=3)
    first = list(a)
    assert first == list(b) and sorted(i for batch in first for i in batch) == list(range(50))
    assert first != [list(range(i, min(i + 8, 50))) for i in range(0, 50, 8)]
    a.set_epoch(1)
    assert list(a) != first and sorted(i for batch in a for i in batch) == list(range(50))
    assert list(GraphBatchSampler(50, 8, shuffle=True, seed=4)) != first


@pytest.mark.parametrize(("n", "replicas", "drop_last"), [(12, 3, False), (12, 3, True), (10, 3, True), (10, 3, False), (2, 4, False)])
def test_ddp_shards(n: int, replicas: int, drop_last: bool) -> None:
    samplers = [GraphBatchSampler(n, 2, shuffle=True, seed=9, drop_last=drop_last, num_replicas=replicas, rank=r)
                for r in range(replicas)]
    shards = [[i for batch in s for i in batch] for s in samplers]
    assert len({len(s) for s in samplers}) == 1, "every rank runs the same number of steps"
    assert len({len(shard) for shard in shards}) == 1
    seen = [i for shard in shards for i in shard]
    if drop_last or n % replicas == 0:
        assert len(seen) == len(set(seen)), "shards are disjoint"
    else:
        assert len(seen) - len(set(seen)) < replicas  # wrap-around padding only
    if drop_last:
        assert all(len(batch) == 2 for s in samplers for batch in s)
        assert len(seen) == replicas * (n // replicas // 2) * 2
    else:
        assert set(seen) == set(range(n)), "nothing is left out"


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="batch_size 0"):
        GraphBatchSampler(5, 0)
    with pytest.raises(ValueError, match=r"rank 2 is not in \[0, num_replicas=2\)"):
        GraphBatchSampler(5, 1, num_replicas=2, rank=2)


def _rank_main(rank: int, init_file: str, out: str) -> None:
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=2)
    sampler = GraphBatchSampler(11, 3, shuffle=True, seed=5)  # replicas and rank from the process group
    Path(out).write_text(json.dumps({"replicas": sampler.num_replicas, "rank": sampler.rank, "batches": list(sampler)}))
    dist.destroy_process_group()


def test_defaults_come_from_torch_distributed(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_rank_main, args=(r, str(tmp_path / "init"), str(tmp_path / f"rank{r}.json")))
             for r in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    results = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    assert [(r["replicas"], r["rank"]) for r in results] == [(2, 0), (2, 1)]
    for r in results:
        assert r["batches"] == list(GraphBatchSampler(11, 3, shuffle=True, seed=5, num_replicas=2, rank=r["rank"]))
    assert len(results[0]["batches"]) == len(results[1]["batches"])
