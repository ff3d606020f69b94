// RefineryProviders: implementation in progress.
