#!/bin/sh
# Runs a command with glibc asked to back large allocations with transparent huge pages
# (glibc >= 2.35: `glibc.malloc.hugetlb=1` makes malloc madvise(MADV_HUGEPAGE) its mmap'd
# chunks, and Node's ArrayBuffers are such chunks). Why: the rating matrix, the import's parse
# arrays and the training layouts are gigabytes of typed arrays, and on a VM the first touch of
# each 4 KB page is a fault the host must back: measured on the 2-core Firecracker machine the
# project is developed on, 3.5 s per GB with 4 KB pages against 0.07-2.5 s with 2 MB pages; the
# 100M Prize import went from 199 to 391 MB/s. Where glibc is older, not glibc (macOS, musl),
# or transparent huge pages are off, the variable is ignored and nothing changes.
# A GLIBC_TUNABLES already set is kept, after this one, so it wins: set
# GLIBC_TUNABLES=glibc.malloc.hugetlb=0 to turn it off.
GLIBC_TUNABLES="glibc.malloc.hugetlb=1${GLIBC_TUNABLES:+:$GLIBC_TUNABLES}" exec "$@"
