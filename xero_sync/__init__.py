"""xero-sync: the Xero integration of the Alternative Payments platform."""
