"""The benchmark suite (`make bench`): figures reported beside a floor, never timed tests."""
