// RefineryTestSupport: implementation in progress.
