"""Benchmarks: collection at scale, the IaC gate, report rendering; run each as a script."""
