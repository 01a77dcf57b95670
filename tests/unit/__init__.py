"""Unit tests: the datapath through BPF_PROG_TEST_RUN, the fuzz model, the loader's floors, the docs."""
