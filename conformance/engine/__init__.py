"""Running cases: scheduling, attempts, the verdict, baselines and the gate."""
