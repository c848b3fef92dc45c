"""Start grader workers on Slurm and keep the scheduler running until Ctrl-C.

Run on the login node (or any node the compute nodes can reach), from the course checkout, with
its venv and dask-jobqueue installed:

    pip install dask-jobqueue==0.9.0
    python deploy/slurm/start_cluster.py --jobs 8

It prints the scheduler's address; in another terminal on the same node:

    python -m grader grade submissions/ --out results/ --scheduler tcp://HOST:8786

Settings: deploy/dask.yaml (scheduler) and deploy/slurm/jobqueue.yaml (the Slurm jobs).
``--print-job-script`` shows the sbatch script the settings give, without submitting anything.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import dask
from dask_jobqueue import SLURMCluster

DEPLOY = Path(__file__).resolve().parents[1]


def load_settings():
    """Merge deploy/dask.yaml and deploy/slurm/jobqueue.yaml into Dask's configuration."""
    settings = dask.config.collect(paths=[str(DEPLOY / "dask.yaml"),
                                          str(DEPLOY / "slurm" / "jobqueue.yaml")], env={})
    dask.config.update(dask.config.config, settings, priority="new")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1, help="Slurm jobs to start (default 1)")
    parser.add_argument("--port", type=int, default=8786, help="scheduler port (default 8786)")
    parser.add_argument("--print-job-script", action="store_true",
                        help="print the job script and exit (submits nothing)")
    args = parser.parse_args(argv)
    load_settings()
    with SLURMCluster(scheduler_options={"port": args.port}) as cluster:
        if args.print_job_script:
            print(cluster.job_script())
            return 0
        cluster.scale(jobs=args.jobs)
        print(f"scheduler: {cluster.scheduler_address}  ({args.jobs} Slurm jobs requested; "
              "workers join as the jobs start). Ctrl-C stops the workers.", flush=True)
        try:
            while True:
                time.sleep(60)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
