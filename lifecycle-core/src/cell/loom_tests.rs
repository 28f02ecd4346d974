//! Loom models of the kernel: every interleaving of start, read, stop and cancelled stop.
