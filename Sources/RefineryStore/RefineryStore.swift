// RefineryStore: implementation in progress.
