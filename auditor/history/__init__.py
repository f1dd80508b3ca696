"""The scan history: a store of scans and finding intervals, ageing against SLAs, and trends."""
