"""Our spaCy components, one per field, registered by name when this package is imported."""

from . import context, counts, data_types, agencies, dates, organization, agency_filter, relevance  # noqa: F401
