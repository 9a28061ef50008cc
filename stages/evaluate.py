"""DVC stage evaluate: score every candidate, choose the final model, export it."""

from __future__ import annotations

import argparse
from pathlib import Path

from graphqa.stage import run_stage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--packed", type=Path, default=Path("artifacts/packed"))
    parser.add_argument("--schema", type=Path, default=Path("artifacts/schema/feature_metadata.json"))
    parser.add_argument("--winner", type=Path, default=Path("artifacts/selection/winner.json"))
    parser.add_argument("--sweep-ckpt", type=Path, default=Path("artifacts/selection/winner.ckpt"))
    parser.add_argument("--phase1", type=Path, default=Path("runs/finetune/phase1"))
    parser.add_argument("--phase2", type=Path, default=Path("runs/finetune/phase2"))
    parser.add_argument("--out", type=Path, default=Path("eval"))
    parser.add_argument("--model-out", type=Path, default=Path("artifacts/model"))
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    args = parser.parse_args()

    def body() -> None:
        import torch

        from graphqa.config import load_params
        from graphqa.data import PackedGraphStore
        from graphqa.evaluation import (
            Candidate,
            choose_final,
            evaluate_candidates,
            pipeline_candidates,
            write_evaluation,
        )
        from graphqa.leaderboard import read_winner
        from graphqa.scoring_model import ScoringModel

        params = load_params(args.params)
        if params.evaluate.checkpoint:  # predict_only: score the given checkpoint alone
            given = Path(params.evaluate.checkpoint)
            if not given.is_file():
                raise FileNotFoundError(f"evaluate.checkpoint: {given} not found")
            candidates, winner_score = [Candidate("given_checkpoint", (given,))], None
        else:
            candidates = pipeline_candidates(args.sweep_ckpt, args.phase1, args.phase2, params.finetune.phase2.seeds)
            winner_score = read_winner(args.winner).score
        val_store = PackedGraphStore.open(args.packed / "val")
        test_store = PackedGraphStore.open(args.packed / "test")
        device = "cuda" if torch.cuda.is_available() else "cpu"
        results = evaluate_candidates(candidates, val_store, test_store, params, device)
        final = choose_final(results)
        headline = write_evaluation(results, final, test_store, params, args.out, winner_score)
        ScoringModel.from_checkpoints(final.candidate.checkpoints).export(
            args.model_out, args.schema,
            {"candidate": final.candidate.name, "val_selection": final.val_selection,
             "test_spearman": headline["test_spearman"], "test_ranking_loss": headline["test_ranking_loss"]},
        )

    run_stage("evaluate", body)


if __name__ == "__main__":
    main()
