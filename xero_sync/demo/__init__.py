"""The main job on embedded defaults (`xero-sync demo`): sandbox, demo partner, Dagster."""
