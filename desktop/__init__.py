"""Jobdesk's Qt window: a view over the core in `jobs/`, fed by its events through queued signals."""
